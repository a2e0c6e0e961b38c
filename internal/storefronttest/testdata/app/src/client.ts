// The Apollo Client a storefront would build: HTTP for queries and
// mutations, graphql-ws for subscriptions, one normalized cache with
// relay-style pagination for the catalogue.
import { ApolloClient, HttpLink, InMemoryCache, split } from "@apollo/client/core/index.js";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions/index.js";
import { getMainDefinition, relayStylePagination } from "@apollo/client/utilities/index.js";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";

export interface Storefront {
  apollo: ApolloClient<unknown>;
  ws: Client;
  close(): Promise<void>;
}

export function storefront(url: string, token: string): Storefront {
  const headers: Record<string, string> = {
    "apollographql-client-name": "storefront-test",
    "apollographql-client-version": "1.0.0",
  };
  if (token) headers.authorization = `Bearer ${token}`;
  const http = new HttpLink({ uri: `${url}/graphql`, headers });
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
    new GraphQLWsLink(ws),
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
