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
 * Options of the DataLoaders through which the gateway fetches entities from subgraphs (Hive
 * Gateway's `__experimental__batchDelegateOptions`, for all types on all subgraphs): no cache.
 *
 * Why: for a subscription, the gateway resolves the other subgraphs' fields of each event (the
 * payments part of `orderStatusChanged { payment { status } }`) with the information of the
 * subscribe call, so every event uses the same DataLoader, and Hive Gateway 2.15 keys its cache
 * by the entity's `@key` alone (`{__typename: "Order", id}`). With the cache, every event after
 * the first repeated the first event's payment (`null`) instead of asking payments again.
 * `@requires(fields: "updatedAt")` on the payments fields does not help: the required fields go
 * into the representation sent to payments but not into that cache key.
 *
 * Batching stays: the entities of one execution step still go to a subgraph in one request.
 * The cost is that an entity that appears twice in one answer (the same item on two orders)
 * is sent twice in that request's representations instead of once.
 */
// The declared type names only maxBatchSize; the options are passed on to DataLoader as they
// are (@graphql-tools/federation: `dataLoaderOptions: { cacheKeyFn, ...batchDelegateOptions }`).
export const entityLoading = { cache: false } as never;

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
