// The Apollo Client a storefront would build: HTTP for queries and
// mutations, graphql-ws for subscriptions, one normalized cache with
// relay-style pagination for the catalogue. With trusted set, every
// operation is sent by its hash in the generated manifest (the server's
// trusted-documents mode), never as text.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, Observable, split, type FetchResult } from "@apollo/client/core/index.js";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries/index.js";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions/index.js";
import { getMainDefinition, relayStylePagination } from "@apollo/client/utilities/index.js";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";

export interface Storefront {
  apollo: ApolloClient<unknown>;
  ws: Client;
  close(): Promise<void>;
}

// hashOf is the manifest hash GraphQL Code Generator put on a document.
export function hashOf(doc: unknown): string {
  const hash = (doc as { __meta__?: { hash?: string } }).__meta__?.hash;
  if (!hash) throw new Error("a document without its generated hash: is codegen's persistedDocuments on?");
  return hash;
}

// byHash sends subscriptions over graphql-ws by hash: the subscribe
// message has no documentId, so the hash goes in extensions.persistedQuery
// and the query stays empty.
function byHash(ws: Client): ApolloLink {
  return new ApolloLink(
    (op) =>
      new Observable<FetchResult>((sink) =>
        ws.subscribe(
          {
            query: "",
            variables: op.variables,
            extensions: { persistedQuery: { version: 1, sha256Hash: hashOf(op.query) } },
          },
          {
            next: (r) => sink.next(r as FetchResult),
            error: (e) => sink.error(e),
            complete: () => sink.complete(),
          },
        ),
      ),
  );
}

export function storefront(url: string, token: string, trusted = false): Storefront {
  const headers: Record<string, string> = {
    "apollographql-client-name": "storefront-test",
    "apollographql-client-version": "1.0.0",
  };
  if (token) headers.authorization = `Bearer ${token}`;
  let http: ApolloLink = new HttpLink({ uri: `${url}/graphql`, headers });
  if (trusted) {
    http = createPersistedQueryLink({ generateHash: hashOf, retry: () => false }).concat(http);
  }
  const ws = createClient({
    url: `${url.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    lazy: true,
  });
  const link = split(
    ({ query }) => {
      const d = getMainDefinition(query);
      return d.kind === "OperationDefinition" && d.operation === "subscription";
    },
    trusted ? byHash(ws) : new GraphQLWsLink(ws),
    http,
  );
  const apollo = new ApolloClient({
    link,
    cache: new InMemoryCache({
      typePolicies: {
        Query: {
          fields: {
            products: relayStylePagination(["where", "orderBy"]),
            flashSales: relayStylePagination(["status", "startsAfter", "startsBefore"]),
            myOrders: relayStylePagination(["status"]),
          },
        },
      },
    }),
  });
  return {
    apollo,
    ws,
    async close() {
      apollo.stop();
      await ws.dispose();
    },
  };
}
