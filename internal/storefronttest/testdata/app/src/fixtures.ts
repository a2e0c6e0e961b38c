// What internal/storefronttest seeded (see its fixtures type).
export interface Fixtures {
  url: string;
  adminToken: string;
  memberToken: string;
  buyerToken: string;
  productIDs: string[];
  campaignID: string;
  flashSaleID: string;
  imagePath: string;
  // trusted: the server runs only the generated manifest's documents.
  trusted: boolean;
}

export const fixtures: Fixtures = JSON.parse(process.env.STOREFRONT_FIXTURES ?? "null");
if (!fixtures) throw new Error("STOREFRONT_FIXTURES is not set: run this through go test ./internal/storefronttest");

export function check(ok: unknown, what: string): asserts ok {
  if (!ok) throw new Error(`FAILED: ${what}`);
  console.log(`ok: ${what}`);
}

// waitFor polls cond every 20 ms until it holds or ms pass.
export async function waitFor(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`FAILED: ${what} (waited ${ms} ms)`);
    await new Promise((r) => setTimeout(r, 20));
  }
  console.log(`ok: ${what}`);
}
