// The seed's REST API on the gateway's own host and port (/api/items, /api/orders,
// /api/payments, /api/accounts), with its OpenAPI document and Swagger UI.
//
// Why a thin REST module and not @graphql-yoga/plugin-sofa: Sofa derives a route from every
// Query and Mutation field and answers GraphQL's JSON shapes, while the seed fixes its own paths
// and JSON (`GET /api/items/{id}/availability`, `itemId` in an order line, 201/204/202...). With
// Sofa we would restrict its routes, rename most of them and still rewrite every answer, plus
// write the REST checks (unknown fields, path ids, Idempotency-Key) Sofa does not do. Here a
// table of routes (routes.ts) runs fixed GraphQL documents (operations.ts) through the gateway's
// own request handler: the REST call becomes a GraphQL POST to /graphql on the same server
// context, so the access-token check, the login/register rate limit, the query limits, error
// masking, subgraph deadlines and metrics are exactly those of GraphQL, and an error's
// `extensions.code` becomes the HTTP status the catalogue gives it.
//
// Every REST answer is JSON. An error is `{"error": {"code", "message", "field"?}}`, the body
// the items subgraph's REST API already used. A request is checked before anything runs
// (body size, Content-Type, JSON, unknown fields, path id, query parameters, Idempotency-Key),
// so a refused request changes nothing.
import type { GatewayPlugin } from '@graphql-hive/gateway';
import { statusOf } from '../errors.ts';
import { DOCS_PATHS, serveDocs } from './docs.ts';
import { ID_PATTERNS, matchPath, ROUTES, type RestRequest, type Route } from './routes.ts';

type Json = Record<string, any>;

const JSON_TYPE = 'application/json; charset=utf-8';
/**
 * What an Idempotency-Key header may hold here: printable ASCII without spaces. Its length and
 * scope are the services' one rule, checked where GraphQL's idempotencyKey is checked.
 */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]+$/;

class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Json = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function refuse(code: string, message: string, extra: Json = {}, status = statusOf(code)): never {
  throw new RestError(status, code, message, extra);
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { ...(status === 204 ? {} : { 'content-type': JSON_TYPE }), 'cache-control': 'no-store', ...headers },
  });
}

function errorResponse(error: RestError): Response {
  return jsonResponse(
    error.status,
    { error: { code: error.code, message: error.message, ...error.extra } },
    error.headers,
  );
}

/** The body, read up to `maxBytes` (by Content-Length, then while it streams). */
async function readBody(request: Request, maxBytes: number): Promise<string> {
  const tooLarge = () =>
    refuse('REQUEST_ENTITY_TOO_LARGE', `The request body is larger than ${maxBytes} bytes.`);
  const length = request.headers.get('content-length');
  if (length !== null && /^\d+$/.test(length) && Number(length) > maxBytes) tooLarge();
  if (request.body === null) return '';
  const chunks: Uint8Array[] = [];
  let read = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    read += value.byteLength;
    if (read > maxBytes) {
      await reader.cancel();
      tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function parseBody(request: Request, route: Route, maxBytes: number): Promise<Json> {
  const text = await readBody(request, maxBytes);
  if (!route.body) {
    if (text.trim() !== '') refuse('BAD_REQUEST', `${route.method} ${route.path} takes no body.`);
    return {};
  }
  if (text.trim() === '') {
    if (route.body.required) refuse('BAD_REQUEST', 'The request needs a JSON body.');
    return {};
  }
  const type = (request.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') {
    refuse('UNSUPPORTED_MEDIA_TYPE', 'Send the body as JSON (Content-Type: application/json).');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    refuse('BAD_REQUEST', 'The body is not valid JSON.');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    refuse('BAD_REQUEST', 'The body must be a JSON object.');
  }
  const allowed = Object.keys(route.body.schema.properties);
  const unknown = Object.keys(body as Json).filter((key) => !allowed.includes(key)).sort();
  if (unknown.length) {
    refuse('BAD_USER_INPUT', `Unknown fields: ${unknown.join(', ')}. Accepted: ${allowed.join(', ')}.`, {
      fields: unknown,
    });
  }
  return body as Json;
}

function parseQuery(url: URL, route: Route): Record<string, string | number> {
  const params = route.query ?? [];
  const query: Record<string, string | number> = {};
  for (const [name, value] of url.searchParams) {
    const param = params.find((p) => p.name === name);
    if (!param) refuse('BAD_USER_INPUT', `Unknown query parameter "${name}".`, { field: name });
    if (param.schema.type === 'integer') {
      const number = Number(value);
      const { minimum = -Infinity, maximum = Infinity } = param.schema;
      if (!/^\d+$/.test(value) || number < minimum || number > maximum) {
        refuse('BAD_USER_INPUT', `"${name}" must be an integer from ${minimum} to ${maximum}.`, { field: name });
      }
      query[name] = number;
    } else {
      query[name] = value;
    }
  }
  return query;
}

function idempotencyKeyOf(request: Request, route: Route): string | undefined {
  const key = request.headers.get('idempotency-key') ?? undefined;
  if (key === undefined) {
    if (route.idempotencyKey === 'required') {
      refuse(
        'BAD_REQUEST',
        'This call moves money: send an Idempotency-Key header, a new one for each intended payment or refund.',
        { field: 'Idempotency-Key' },
      );
    }
    return undefined;
  }
  if (!route.idempotencyKey) {
    refuse('BAD_REQUEST', `${route.method} ${route.path} takes no Idempotency-Key header.`);
  }
  if (!IDEMPOTENCY_KEY.test(key)) {
    refuse('BAD_USER_INPUT', 'The Idempotency-Key must be printable ASCII characters, without spaces.', {
      field: 'Idempotency-Key',
    });
  }
  return key;
}

/** "Variable "$input" got an invalid value at "input.unitPrice": ..." in REST words. */
function restMessage(message: string): { message: string; field?: string } {
  const variable = /^Variable "\$(\w+)" got an invalid value(?: at "([^"]+)")?: ([\s\S]*)$/.exec(message);
  if (variable) {
    const path = (variable[2] ?? variable[1]).replace(/^input\.?/, '');
    return path ? { message: `Invalid value of "${path}": ${variable[3]}`, field: path } : { message: variable[3] };
  }
  const required = /^Variable "\$(\w+)" of required type "[^"]+" was not provided\.$/.exec(message);
  if (required) return { message: `"${required[1]}" is required.`, field: required[1] };
  return { message };
}

/** The REST answer of a GraphQL answer: the data in the seed's JSON, or the first error. */
async function restAnswer(route: Route, id: string | undefined, graphql: Response): Promise<Response> {
  let result: Json;
  try {
    result = (await graphql.json()) as Json;
  } catch {
    refuse('SERVICE_UNAVAILABLE', 'The gateway gave no JSON answer.');
  }
  const errors = (result.errors ?? []) as Json[];
  if (errors.length) {
    const first = errors[0];
    const code: string = first.extensions?.code ?? 'INTERNAL_SERVER_ERROR';
    const { message, field } = restMessage(String(first.message));
    const extra: Json = {};
    if (first.extensions?.field ?? field) extra.field = first.extensions?.field ?? field;
    const headers: Record<string, string> = {};
    const retryAfter = graphql.headers.get('retry-after');
    if (retryAfter) headers['retry-after'] = retryAfter;
    if (code === 'UNAUTHENTICATED') headers['www-authenticate'] = 'Bearer';
    throw new RestError(statusOf(code), code, message, extra, headers);
  }
  const body = result.data ? route.operation.toRest(result.data) : null;
  if (body === null) {
    refuse('NOT_FOUND', id ? `No ${route.resource} has the id ${JSON.stringify(id)}.` : `No ${route.resource} found.`);
  }
  return jsonResponse(route.status, body);
}

type Handler = (request: Request, serverContext: any) => Promise<Response> | Response;

async function handle(
  request: Request,
  url: URL,
  serverContext: unknown,
  graphqlHandler: Handler,
  maxBytes: number,
): Promise<Response> {
  const matched = matchPath(url.pathname);
  if (!matched) refuse('NOT_FOUND', `There is no REST path ${url.pathname}; see /api/docs.`);
  const routes = ROUTES.filter((r) => r.path === matched.template);
  const route = routes.find((r) => r.method === request.method);
  if (!route) {
    const allow = routes.map((r) => r.method).join(', ');
    throw new RestError(405, 'BAD_REQUEST', `${url.pathname} answers ${allow}.`, {}, { allow });
  }
  if (route.idKind && !new RegExp(ID_PATTERNS[route.idKind]).test(matched.id ?? '')) {
    refuse('BAD_USER_INPUT', `${JSON.stringify(matched.id)} is not a valid ${route.resource} id.`, { field: 'id' });
  }
  const input: RestRequest = {
    id: matched.id,
    query: parseQuery(url, route),
    idempotencyKey: idempotencyKeyOf(request, route),
    body: await parseBody(request, route, maxBytes),
  };
  if (route.auth !== 'none' && !request.headers.has('authorization')) {
    throw new RestError(
      401,
      'UNAUTHENTICATED',
      route.auth === 'admin'
        ? 'An admin access token is required (Authorization: Bearer <token>).'
        : 'An access token is required (Authorization: Bearer <token>); get one from POST /api/accounts/login.',
      {},
      { 'www-authenticate': 'Bearer' },
    );
  }
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  const authorization = request.headers.get('authorization');
  if (authorization !== null) headers.authorization = authorization;
  const graphqlRequest = new Request(new URL('/graphql', url), {
    method: 'POST',
    headers,
    body: JSON.stringify({
      query: route.operation.document,
      operationName: route.operation.name,
      variables: route.variables(input),
    }),
    signal: request.signal,
  });
  return restAnswer(route, matched.id, await graphqlHandler(graphqlRequest, serverContext));
}

/**
 * Serves /api/… before GraphQL sees the request. `maxBytes` is the gateway's body limit
 * (SHOP_MAX_REQUEST_BYTES), the same for REST as for GraphQL.
 */
export function useRest(maxBytes: number, log: { error(attrs: Json, message: string): void }): GatewayPlugin {
  return {
    onRequest({ request, url, serverContext, requestHandler, endResponse }) {
      if (url.pathname !== '/api' && !url.pathname.startsWith('/api/')) return;
      if (DOCS_PATHS.has(url.pathname)) return serveDocs(url.pathname, request).then(endResponse);
      return handle(request, url, serverContext, requestHandler as Handler, maxBytes)
        .catch((error: unknown) => {
          if (error instanceof RestError) return errorResponse(error);
          log.error({ path: url.pathname, failure: (error as Error)?.name }, 'REST request failed');
          return errorResponse(new RestError(500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.'));
        })
        .then(endResponse);
    },
  };
}
