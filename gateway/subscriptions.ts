// Subscriptions (orderStatusChanged) through the gateway.
//
// Clients subscribe over Server-Sent Events (POST or GET /graphql with
// `Accept: text/event-stream`) or over WebSocket (graphql-transport-ws on /graphql, the token in
// the upgrade request's Authorization header); Hive Gateway serves both. The gateway asks the
// orders subgraph for the stream over SSE on POST /graphql, so the subscription passes the
// subgraph's authentication like any request (gateway secret and bearer token, forwarded by
// propagateHeaders): the HTTP transport's default for a subscription is GET, which a subgraph
// answers only with GraphiQL. The design and its reasons: docs/LIVE_ORDER_STATUS.md.
import type { GatewayConfigSupergraph, GatewayPlugin } from '@graphql-hive/gateway';

/** Transport options of the subgraphs that serve subscriptions. */
export const subscriptionTransports: GatewayConfigSupergraph['transportEntries'] = {
  orders: { options: { method: 'POST' } as never },
};

/**
 * A browser cannot put an Authorization header on a WebSocket upgrade, so a WebSocket client
 * sends the token in the connection's `connection_init` payload (graphql-ws clients:
 * `{"Authorization": "Bearer …"}`) or in its `subscribe` message's `extensions.headers` (what
 * GraphiQL at :4000, Hive Laboratory, does with its Headers tab). On a WebSocket connection
 * only, this copies that token onto the connection's request before the JWT check reads it;
 * it is then verified like any header. A header on the upgrade request wins. List it before
 * useShopJwt.
 */
export function useConnectionParamsToken(): GatewayPlugin {
  const tokenIn = (fields: unknown): string | undefined => {
    if (!fields || typeof fields !== 'object') return undefined;
    const record = fields as Record<string, unknown>;
    const token = record.authorization ?? record.Authorization;
    return typeof token === 'string' && token !== '' ? token : undefined;
  };
  return {
    onContextBuilding({ context }) {
      const { request, connectionParams, params } = context as {
        request?: Request;
        connectionParams?: Record<string, unknown>;
        params?: { extensions?: { headers?: unknown } };
      };
      if (!request || connectionParams === undefined || request.headers.has('authorization')) return;
      const token = tokenIn(connectionParams) ?? tokenIn(params?.extensions?.headers);
      if (token) request.headers.set('authorization', token);
    },
  };
}
