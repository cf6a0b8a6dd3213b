// The gateway's own HTTP endpoints besides GraphQL and REST:
//   /healthz and /readyz, the subgraphs' paths (set in the config); the old /healthcheck and
//     /readiness answer 308 Permanent Redirect to them, for probes that still use them
//     (Kubernetes counts a 3xx as success, fetch and curl -L follow it). A redirect, not a
//     second answer: Hive Gateway's own health plugins run before any configured plugin, so
//     no plugin can pass them a rewritten path;
//   GraphiQL (Hive Laboratory, 21 MB of HTML) rendered once, then served compressed
//     (brotli or gzip) with an ETag, so a reload costs a 304 instead of the whole page;
//   a path the gateway does not serve: 404 with a JSON error carrying NOT_FOUND, like every
//     other error a client can see (Yoga answers it with an empty body and no code).
import type { GatewayPlugin } from '@graphql-hive/gateway';
import { StaticAsset } from './static.ts';

const ALIASES: Record<string, string> = { '/healthcheck': '/healthz', '/readiness': '/readyz' };

function isGraphiQL(request: Request, response: Response, graphqlEndpoint: string): boolean {
  return (
    (request.method === 'GET' || request.method === 'HEAD') &&
    new URL(request.url).pathname === graphqlEndpoint &&
    response.status === 200 &&
    (response.headers.get('content-type') ?? '').startsWith('text/html')
  );
}

function notFound(path: string, graphqlEndpoint: string): Response {
  const message = `There is nothing at ${path}: GraphQL is at ${graphqlEndpoint}, REST under /api (see /api/docs).`;
  return new Response(JSON.stringify({ errors: [{ message, extensions: { code: 'NOT_FOUND' } }] }), {
    status: 404,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
}

export function usePublicEndpoints(graphqlEndpoint = '/graphql'): GatewayPlugin {
  // The page is rendered once (graphiql.ts), so the first answer's body stands for all.
  let graphiql: Promise<StaticAsset> | undefined;
  return {
    onRequest({ url, endResponse }) {
      const target = ALIASES[url.pathname];
      if (target !== undefined) {
        endResponse(new Response(null, { status: 308, headers: { location: target } }));
      }
    },
    onResponse({ request, response, setResponse }) {
      if (response.status === 404 && response.headers.get('content-type') === null) {
        void response.body?.cancel();
        setResponse(notFound(new URL(request.url).pathname, graphqlEndpoint));
        return;
      }
      if (!isGraphiQL(request, response, graphqlEndpoint)) return;
      const type = response.headers.get('content-type')!;
      if (graphiql) {
        void response.body?.cancel();
      } else {
        graphiql = response.arrayBuffer().then((body) => new StaticAsset(new Uint8Array(body), type));
        graphiql.catch(() => {
          graphiql = undefined;
        });
      }
      return graphiql.then((page) => page.respond(request)).then(setResponse);
    },
  };
}
