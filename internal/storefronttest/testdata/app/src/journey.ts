// The member's journey through the storefront, as a frontend would run it:
// browse with images, fill a cart, quote it (the best coupon chosen by the
// server), place it from the cart, pay it in the sandbox cashier, and see
// the order turn PAID through orderUpdated; then watch a flash sale, whose
// stock pushes update the cached FlashSale with no manual cache writes.
import { readFile } from "node:fs/promises";
import { print } from "graphql";
import { gql, type ApolloError } from "@apollo/client/core/index.js";
import { hashOf, storefront } from "./client.js";
import { check, fixtures as f, waitFor } from "./fixtures.js";
import * as doc from "./documents.js";

const member = storefront(f.url, f.memberToken, f.trusted);
const buyer = storefront(f.url, f.buyerToken, f.trusted);
const anonymous = storefront(f.url, "", f.trusted);

// nodes unwraps a connection's edges (entgql makes edges and nodes nullable).
function nodes<T>(edges: ReadonlyArray<{ node?: T | null } | null> | null | undefined): T[] {
  return (edges ?? []).flatMap((e) => (e?.node ? [e.node] : []));
}

// uploadImage sends the GraphQL multipart request (operations, map, file)
// as an admin's product editor would.
async function uploadImage(productID: string): Promise<{ url: string; contentType: string }> {
  const form = new FormData();
  const operation = f.trusted
    ? { extensions: { persistedQuery: { version: 1, sha256Hash: hashOf(doc.UploadImage) } } }
    : { query: print(doc.UploadImage) };
  form.append("operations", JSON.stringify({ ...operation, variables: { productID, file: null } }));
  form.append("map", JSON.stringify({ 0: ["variables.file"] }));
  // A declared type that lies: the server decides by content.
  form.append("0", new Blob([await readFile(f.imagePath)], { type: "application/octet-stream" }), "cover.png");
  const res = await fetch(`${f.url}/graphql`, {
    method: "POST",
    headers: { authorization: `Bearer ${f.adminToken}`, "apollo-require-preflight": "true" },
    body: form,
  });
  const body = await res.json();
  check(res.ok && !body.errors, `the admin uploads a cover image (${res.status} ${JSON.stringify(body.errors ?? "")})`);
  return body.data.uploadProductImage;
}

async function browse() {
  const img = await uploadImage(f.productIDs[0]);
  check(img.contentType === "image/png", "the upload is recognised as PNG by its content");
  const { data } = await anonymous.apollo.query({ query: doc.Catalogue, variables: { first: 2 } });
  check(nodes(data.products.edges).length === 2 && data.products.pageInfo.hasNextPage, "the first catalogue page has 2 products and more");
  // The next page, merged into the cached list by relayStylePagination
  // (a cache-first read would answer from the first page's list).
  const more = await anonymous.apollo.query({
    query: doc.Catalogue,
    variables: { first: 20, after: data.products.pageInfo.endCursor },
    fetchPolicy: "network-only",
  });
  const all = nodes(more.data.products.edges);
  check(all.length > 2 && new Set(all.map((p) => p.id)).size === all.length, `the pages merge into one list (${all.length} products)`);
  const oil = all.find((p) => p.id === f.productIDs[0]);
  check(oil?.cover?.url && oil.images.length === 1 && oil.cover.width === 64 && oil.cover.height === 48,
    "the product shows its cover image with its size");
  const res = await fetch(new URL(oil!.cover!.url, f.url));
  check(res.ok && res.headers.get("content-type") === "image/png" && /immutable/.test(res.headers.get("cache-control") ?? ""),
    "the image is served with long-lived cache headers");
  const cats = await anonymous.apollo.query({ query: doc.Categories });
  check(cats.data.productCategories.some((c) => c.category === "TEA" && c.name === "陕茶茗品"), "categories have display names");
}

async function shop() {
  await member.apollo.mutate({ mutation: doc.ClaimPack, variables: { campaignID: f.campaignID } });
  await member.apollo.mutate({ mutation: doc.AddToCart, variables: { input: { productID: f.productIDs[0], quantity: 2 } } });
  const added = await member.apollo.mutate({ mutation: doc.AddToCart, variables: { input: { productID: f.productIDs[1], quantity: 1 } } });
  check(added.data?.addToCart.itemCount === 3 && added.data.addToCart.lines.every((l) => l.problem === null),
    "the cart holds 3 items without problems");
  const cart = await member.apollo.query({ query: doc.CartQuery, fetchPolicy: "network-only" });
  const subtotal = cart.data.cart.subtotal;

  const { data: q } = await member.apollo.query({ query: doc.QuoteCart, fetchPolicy: "network-only" });
  const quote = q.quote;
  check(quote.subtotal === subtotal && quote.orderable, `the quote prices the cart (${quote.subtotal})`);
  // The best coupon is the applicable one with the largest discount; the
  // client need not work it out, but checks the server did.
  const applicable = quote.coupons.filter((c) => c.applicable);
  const best = applicable.reduce((a, b) => (Number(b.discount) > Number(a.discount) ? b : a));
  check(quote.bestCoupon?.id === best.coupon.id && quote.appliedCoupon?.id === best.coupon.id,
    `the quote picks the best coupon (满${best.coupon.threshold}减${best.coupon.discount})`);
  check(quote.coupons.some((c) => !c.applicable && c.reason), "coupons that do not apply say why");

  // A form with several bad fields: Apollo gets a GraphQL error (not a
  // network error) naming each field, in Chinese by default.
  const refused = await member.apollo
    .mutate({
      mutation: doc.PlaceFromCart,
      variables: { input: { items: [], fromCart: true, shippingAddress: { recipient: "", phone: "12", region: "陕西省", detail: "" } } },
    })
    .then(() => null, (e: ApolloError) => e);
  const bad = refused?.graphQLErrors[0]?.extensions as { code?: string; fields?: { field: string; message: string }[] } | undefined;
  check(bad?.code === "BAD_USER_INPUT" && (bad.fields?.length ?? 0) >= 3 && /[\u4e00-\u9fff]/.test(refused!.graphQLErrors[0].message),
    `a bad address names every bad field (${bad?.fields?.map((f) => f.field).join(", ")})`);

  const placed = await member.apollo.mutate({
    mutation: doc.PlaceFromCart,
    variables: {
      input: {
        items: [],
        fromCart: true,
        couponID: quote.bestCoupon!.id,
        shippingAddress: { recipient: "张三丰", phone: "13800138000", region: "陕西省汉中市汉台区", detail: "中山街1号" },
      },
    },
  });
  const order = placed.data!.placeOrder;
  check(order.total === quote.total && order.discount === quote.discount && order.coupon?.id === quote.bestCoupon!.id,
    `the order costs what the quote said (${order.total})`);
  const after = await member.apollo.query({ query: doc.CartQuery, fetchPolicy: "network-only" });
  check(after.data.cart.lines.length === 0, "ordered lines left the cart");
  return order;
}

async function pay(orderID: string) {
  const statuses: string[] = [];
  const sub = member.apollo.subscribe({ query: doc.OrderUpdated, variables: { orderID } }).subscribe({
    next: (r) => r.data && statuses.push(r.data.orderUpdated.status),
    error: (e) => statuses.push(`error: ${e}`),
  });
  await waitFor("orderUpdated sends the order at once", () => statuses[0] === "PENDING_PAYMENT");
  const started = await member.apollo.mutate({ mutation: doc.PayOrder, variables: { input: { orderID, channel: "SANDBOX" } } });
  const cashier = started.data!.payOrder.sandboxURL!;
  // A path without PUBLIC_URL: relative to the server the app talks to.
  const res = await fetch(new URL(cashier, f.url), { method: "POST", redirect: "manual" });
  check(res.status === 303, `the sandbox cashier takes the payment (${res.status})`);
  await waitFor("orderUpdated pushes PAID", () => statuses.includes("PAID"));
  sub.unsubscribe();
  const cached = member.apollo.cache.readFragment<{ status: string }>({
    id: member.apollo.cache.identify({ __typename: "Order", id: orderID }),
    fragment: gql`fragment S on Order { status }`,
  });
  check(cached?.status === "PAID", "the cached order is PAID without a refetch");
  const paid = await member.apollo.query({ query: doc.MyOrders, variables: { status: "PAID" }, fetchPolicy: "network-only" });
  check(nodes(paid.data.myOrders.edges).some((o) => o.id === orderID), "the 待发货 tab (myOrders(status: PAID)) lists it");
}

async function flashSale() {
  const cal = await anonymous.apollo.query({ query: doc.FlashSaleCalendar });
  check(nodes(cal.data.flashSales.edges).some((s) => s.id === f.flashSaleID), "the 秒杀 calendar lists the active sale");
  const { data } = await member.apollo.query({ query: doc.FlashSaleQuery, variables: { id: f.flashSaleID } });
  const before = data.flashSale!.sold;
  const id = member.apollo.cache.identify({ __typename: "FlashSale", id: f.flashSaleID });
  const sold = () =>
    member.apollo.cache.readFragment<{ sold: number; remaining: number }>({ id, fragment: gql`fragment X on FlashSale { sold remaining }` });
  let pushes = 0;
  const sub = member.apollo.subscribe({ query: doc.FlashSaleStock, variables: { id: f.flashSaleID } }).subscribe({
    next: () => pushes++,
  });
  await waitFor("the stock subscription sends the current state", () => pushes > 0);
  await buyer.apollo.mutate({ mutation: doc.BuyFlashSale, variables: { id: f.flashSaleID } });
  await waitFor("a push updates the cached FlashSale (no manual cache write)", () => sold()?.sold === before + 1);
  check(sold()!.remaining === data.flashSale!.remaining - 1, "remaining falls with it");
  sub.unsubscribe();
}

// trustedOnly: with the manifest in force, text that is not one of its
// documents is refused with a code, and a documentId runs its document.
async function trustedOnly() {
  const post = async (body: object) => {
    const res = await fetch(`${f.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return res.json();
  };
  const raw = await post({ query: "{ products(first: 100) { totalCount } }" });
  check(raw.errors?.[0]?.extensions?.code === "PERSISTED_QUERY_REQUIRED", "a document outside the manifest is refused (PERSISTED_QUERY_REQUIRED)");
  const unknown = await post({ documentId: "sha256:" + "0".repeat(64) });
  check(unknown.errors?.[0]?.extensions?.code === "PERSISTED_QUERY_NOT_FOUND", "an unknown documentId is PERSISTED_QUERY_NOT_FOUND");
  const byId = await post({ documentId: hashOf(doc.Categories) });
  check(byId.data?.productCategories?.length > 0, "a documentId of the manifest runs its document");
}

try {
  if (f.trusted) await trustedOnly();
  await browse();
  const order = await shop();
  await pay(order.id);
  await flashSale();
  console.log("journey complete");
} finally {
  await Promise.all([member.close(), buyer.close(), anonymous.close()]);
}
