// Subscriptions (orderStatusChanged) through the gateway.
//
// Clients subscribe over Server-Sent Events (POST or GET /graphql with
// `Accept: text/event-stream`) or over WebSocket (graphql-transport-ws on /graphql, the token in
// the upgrade request's Authorization header); Hive Gateway serves both. The gateway asks the
// orders subgraph for the stream over SSE on POST /graphql, so the subscription passes the
// subgraph's authentication like any request (gateway secret and bearer token, forwarded by
// propagateHeaders): the HTTP transport's default for a subscription is GET, which a subgraph
// answers only with GraphiQL. The design and its reasons: docs/LIVE_ORDER_STATUS.md.
import type { GatewayConfigSupergraph } from '@graphql-hive/gateway';

/** Transport options of the subgraphs that serve subscriptions. */
export const subscriptionTransports: GatewayConfigSupergraph['transportEntries'] = {
  orders: { options: { method: 'POST' } as never },
};
