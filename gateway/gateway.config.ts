// Hive Gateway configuration for the shop supergraph.
//
// Every setting comes from the environment (see README, "Gateway"):
//   SHOP_GATEWAY_PORT              port to listen on (default 4000)
//   SHOP_GATEWAY_HOST              interface to bind (default 127.0.0.1; 0.0.0.0 in a container)
//   SHOP_SUPERGRAPH                supergraph SDL path (default gateway/supergraph.graphql;
//                                  the stacks compose one and set this)
//   SHOP_ENV                       development (default) | production
//   SHOP_JWKS_URL                  JWKS of the accounts subgraph
//   SHOP_JWT_ISSUER                expected `iss` (default shop-accounts)
//   SHOP_JWT_AUDIENCE              expected `aud` (default shop)
//   SHOP_GATEWAY_SECRET            required; sent to subgraphs as `x-gateway-secret`
//   SHOP_AUTH_RATE_LIMIT           login/register fields per IP per window (default 10)
//   SHOP_AUTH_RATE_WINDOW_SECONDS  window length (default 60)
//   SHOP_SUBGRAPH_TIMEOUT_SECONDS  deadline of each subgraph call (default 10); past it the
//                                  client gets SERVICE_UNAVAILABLE
//   SHOP_MAX_REQUEST_BYTES         largest request body (default 1000000); larger: 413
//   SHOP_CORS_ORIGINS              browser origins allowed to call with credentials, comma-
//                                  separated (default none: no CORS header is ever sent)
//   SHOP_GATEWAY_LOG_LEVEL         error | warn | info (default) | debug
//   SHOP_KAFKA_BOOTSTRAP           Kafka, for the catalog cache's invalidation events (unset:
//                                  no catalog cache)
//   SHOP_CATALOG_CACHE_SECONDS     longest life of a cached catalog answer (default 60; 0: off)
//
// The modules beside this file hold the parts: errors.ts (the error-code catalogue, masking,
// variable errors), subgraphs.ts (deadlines and failures of subgraph calls), http.ts (client
// address, body limits, CORS), logging.ts (the redacted log), catalog-cache.ts (anonymous
// catalog reads answered from memory, invalidated by the items events), tracing.ts
// (OpenTelemetry and the x-request-id response header).
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { defineConfig, type GatewayPlugin } from '@graphql-hive/gateway';
import {
  GraphQLError,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { randomUUID } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useCatalogCache } from './catalog-cache.ts';
import { maskError, useValidationErrorStatus, useVariableErrors } from './errors.ts';
import { clientAddress, corsFor, parseOrigins, useRequestLimits } from './http.ts';
import { createLogger } from './logging.ts';
import { useSubgraphFailures } from './subgraphs.ts';
import { usePublicEndpoints } from './endpoints.ts';
import { renderGraphiQL } from './graphiql.ts';
import { metricsConfig } from './metrics.ts';
import { useRest } from './rest/plugin.ts';
import { openTelemetryFromEnv, useRequestIdHeader } from './tracing.ts';
import { entityLoading, subscriptionTransports, useConnectionParamsToken } from './subscriptions.ts';

const here = dirname(fileURLToPath(import.meta.url));
const env = process.env;

function intFromEnv(name: string, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

const SHOP_ENV = env.SHOP_ENV || 'development';
if (SHOP_ENV !== 'development' && SHOP_ENV !== 'production') {
  throw new Error(`SHOP_ENV must be "development" or "production", got ${JSON.stringify(SHOP_ENV)}`);
}
const production = SHOP_ENV === 'production';

const GATEWAY_SECRET = env.SHOP_GATEWAY_SECRET ?? '';
if (GATEWAY_SECRET.length < 16) {
  throw new Error(
    'SHOP_GATEWAY_SECRET is required (at least 16 characters): the shared secret the gateway ' +
      'sends to the subgraphs as x-gateway-secret',
  );
}

const PORT = intFromEnv('SHOP_GATEWAY_PORT', 4000);
const HOST = env.SHOP_GATEWAY_HOST || '127.0.0.1';
const SUPERGRAPH = env.SHOP_SUPERGRAPH || resolve(here, 'supergraph.graphql');
const JWKS_URL = env.SHOP_JWKS_URL || 'http://localhost:4004/.well-known/jwks.json';
const JWT_ISSUER = env.SHOP_JWT_ISSUER || 'shop-accounts';
const JWT_AUDIENCE = env.SHOP_JWT_AUDIENCE || 'shop';
const AUTH_RATE_LIMIT = intFromEnv('SHOP_AUTH_RATE_LIMIT', 10);
const AUTH_RATE_WINDOW_MS = intFromEnv('SHOP_AUTH_RATE_WINDOW_SECONDS', 60) * 1000;
const SUBGRAPH_TIMEOUT_MS = intFromEnv('SHOP_SUBGRAPH_TIMEOUT_SECONDS', 10) * 1000;
const MAX_REQUEST_BYTES = intFromEnv('SHOP_MAX_REQUEST_BYTES', 1_000_000);
const CORS_ORIGINS = parseOrigins(env.SHOP_CORS_ORIGINS);
const CATALOG_CACHE_SECONDS = intFromEnv('SHOP_CATALOG_CACHE_SECONDS', 60, 0);
const LOG_LEVEL = env.SHOP_GATEWAY_LOG_LEVEL || 'info';
if (!['error', 'warn', 'info', 'debug'].includes(LOG_LEVEL)) {
  throw new Error(`SHOP_GATEWAY_LOG_LEVEL must be error, warn, info or debug, got ${JSON.stringify(LOG_LEVEL)}`);
}
const log = createLogger(LOG_LEVEL as 'info');

export const LIMITS = { depth: 10, tokens: 2000, aliases: 30, directives: 50 } as const;

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: {
      code: 'UNAUTHENTICATED',
      http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } },
    },
  });
}

/**
 * Verifies `Authorization: Bearer <JWT>` against the accounts JWKS: RS256 only (the token's
 * `alg` header is never trusted), issuer, audience and an `exp` claim required. No header means
 * an anonymous request; any other header value that does not verify rejects the whole request.
 */
function useShopJwt(): GatewayPlugin {
  const jwks = createRemoteJWKSet(new URL(JWKS_URL), {
    timeoutDuration: 5000,
    cooldownDuration: 30_000,
    cacheMaxAge: 10 * 60_000,
  });
  const verified = new WeakMap<Request, Promise<Record<string, unknown> | null>>();

  async function verify(request: Request): Promise<Record<string, unknown> | null> {
    const header = request.headers.get('authorization');
    if (header === null) return null;
    const match = /^Bearer ([A-Za-z0-9_\-.=]+)$/.exec(header.trim());
    if (!match) throw unauthenticated('Malformed Authorization header: expected "Bearer <token>".');
    try {
      const { payload } = await jwtVerify(match[1], jwks, {
        algorithms: ['RS256'],
        issuer: JWT_ISSUER,
        audience: JWT_AUDIENCE,
        requiredClaims: ['exp', 'sub'],
      });
      return payload as Record<string, unknown>;
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (code === 'ERR_JWKS_TIMEOUT' || code === 'ERR_JOSE_GENERIC' || !code.startsWith('ERR_')) {
        // The key set could not be fetched: not the client's fault, so not an auth error.
        log.warn({ failure: code || (err as Error).name }, 'the JWKS could not be fetched');
        throw new GraphQLError('The shop cannot check access tokens right now; try again shortly.', {
          extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503 } },
        });
      }
      throw unauthenticated(
        code === 'ERR_JWT_EXPIRED'
          ? 'Authentication token has expired.'
          : 'Invalid authentication token.',
      );
    }
  }

  function check(request: Request) {
    let pending = verified.get(request);
    if (!pending) {
      pending = verify(request);
      verified.set(request, pending);
    }
    return pending;
  }

  return {
    onRequestParse({ request }) {
      return check(request).then(() => undefined);
    },
    onContextBuilding({ context, extendContext }) {
      const request = (context as { request?: Request }).request;
      if (!request) return;
      return check(request).then((payload) => {
        extendContext({ jwt: payload ?? undefined } as never);
      });
    },
  };
}

const RATE_LIMITED_FIELDS = new Set(['login', 'register']);

/** Counts the Mutation root fields named login/register in every operation of the document. */
export function countAuthFields(document: DocumentNode): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  }
  const countIn = (set: SelectionSetNode, seen: Set<string>): number => {
    let n = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (RATE_LIMITED_FIELDS.has(sel.name.value)) n += 1;
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        n += countIn(sel.selectionSet, seen);
      } else if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(sel.name.value);
        if (fragment && !seen.has(fragment.name.value)) {
          n += countIn(fragment.selectionSet, new Set([...seen, fragment.name.value]));
        }
      }
    }
    return n;
  };
  let total = 0;
  for (const def of document.definitions) {
    if (def.kind === Kind.OPERATION_DEFINITION && def.operation === 'mutation') {
      total += countIn(def.selectionSet, new Set());
    }
  }
  return total;
}

/**
 * Per-IP sliding-window limit on `login`/`register` mutation fields. Every occurrence counts
 * (aliases included, in every operation of the document), so a request carrying more than the
 * remaining allowance is refused whole before any subgraph is called.
 */
function useAuthRateLimit(limit: number, windowMs: number): GatewayPlugin {
  const hits = new Map<string, number[]>();
  const sweep = setInterval(() => {
    const cutoff = Date.now() - windowMs;
    for (const [ip, times] of hits) {
      const live = times.filter((t) => t > cutoff);
      if (live.length) hits.set(ip, live);
      else hits.delete(ip);
    }
  }, windowMs);
  sweep.unref();
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const n = countAuthFields(args.document);
      if (n === 0) return;
      const ip = clientAddress(args.contextValue as Record<string, any>);
      const now = Date.now();
      const live = (hits.get(ip) ?? []).filter((t) => t > now - windowMs);
      if (live.length + n > limit) {
        hits.set(ip, live);
        const retryAfter = live.length ? Math.ceil((live[0] + windowMs - now) / 1000) : 1;
        setResultAndStopExecution({
          errors: [
            new GraphQLError('Too many login or register attempts; try again later.', {
              extensions: {
                code: 'RATE_LIMITED',
                http: { status: 429, headers: { 'Retry-After': String(Math.max(retryAfter, 1)) } },
              },
            }),
          ],
        });
        return;
      }
      for (let i = 0; i < n; i++) live.push(now);
      hits.set(ip, live);
    },
  };
}

const requestIds = new WeakMap<Request, string>();
function requestIdOf(request: Request): string {
  let id = requestIds.get(request);
  if (!id) {
    id = randomUUID();
    requestIds.set(request, id);
  }
  return id;
}

export const gatewayConfig = defineConfig({
  supergraph: SUPERGRAPH,
  transportEntries: subscriptionTransports,
  // Entity DataLoaders without a cache, so each subscription event is fresh (subscriptions.ts).
  __experimental__batchDelegateOptions: entityLoading,
  port: PORT,
  host: HOST,
  fork: 1, // the auth rate limit is kept in memory: one process sees every request
  logging: log,
  graphiql: !production,
  renderGraphiQL, // graphiql.ts: opens on an example operation
  landingPage: !production,
  healthCheckEndpoint: '/healthz', // endpoints.ts keeps /healthcheck and /readiness as aliases
  readinessCheckEndpoint: '/readyz',
  prometheus: metricsConfig,
  disableIntrospection: production ? { disableIf: () => true } : undefined,
  blockFieldSuggestions: production,
  batching: false,
  csrfPrevention: { requestHeaders: ['x-graphql-csrf', 'apollo-require-preflight'] },
  cors: corsFor(CORS_ORIGINS),
  maskedErrors: { maskError: (error: unknown) => maskError(error, log) },
  openTelemetry: openTelemetryFromEnv(), // tracing.ts: on when OTEL_EXPORTER_OTLP_ENDPOINT is set
  // A client-sent x-request-id would otherwise be forwarded; the gateway makes its own below.
  requestId: false,
  propagateHeaders: {
    // Only these headers go to a subgraph; every other client header stays at the gateway.
    // x-client-ip is the socket peer (see http.ts), for the accounts service's per-client
    // login throttle; the subgraphs trust it only beside the gateway secret.
    fromClientToSubgraphs: ({ request, context }) => ({
      authorization: request.headers.get('authorization') ?? undefined,
      'x-gateway-secret': GATEWAY_SECRET,
      'x-request-id': requestIdOf(request),
      'x-client-ip': clientAddress(context as Record<string, any>),
    }),
  },
  plugins: () => [
    usePublicEndpoints(),
    useRest(MAX_REQUEST_BYTES, log),
    useRequestLimits(MAX_REQUEST_BYTES),
    useConnectionParamsToken(),
    useShopJwt(),
    ...(CATALOG_CACHE_SECONDS > 0
      ? [
          useCatalogCache({
            bootstrap: env.SHOP_KAFKA_BOOTSTRAP,
            supergraphPath: SUPERGRAPH,
            ttlSeconds: CATALOG_CACHE_SECONDS,
            log,
          }),
        ].filter((plugin) => plugin !== undefined)
      : []),
    maxTokensPlugin({ n: LIMITS.tokens }),
    maxDepthPlugin({ n: LIMITS.depth, ignoreIntrospection: true, flattenFragments: true }),
    maxAliasesPlugin({ n: LIMITS.aliases, allowList: [] }),
    maxDirectivesPlugin({ n: LIMITS.directives }),
    useAuthRateLimit(AUTH_RATE_LIMIT, AUTH_RATE_WINDOW_MS),
    useRequestIdHeader(requestIdOf),
    useValidationErrorStatus(),
    useVariableErrors(),
    useSubgraphFailures(SUBGRAPH_TIMEOUT_MS, log, (context) =>
      context?.request ? requestIdOf(context.request) : undefined,
    ),
  ],
});
