// The HTTP edge of the gateway: who the client is, how large and what kind of body it may
// send, and which browser origins may call it.
import type { GatewayPlugin } from '@graphql-hive/gateway';
import { isIP } from 'node:net';
import { requestError } from './errors.ts';

/**
 * The client's address: the socket peer, never a header (a client could write anything in
 * X-Forwarded-For). IPv4-mapped IPv6 addresses (::ffff:1.2.3.4) are written as IPv4.
 */
export function clientAddress(context: Record<string, any> | undefined): string {
  const raw: unknown = context?.req?.socket?.remoteAddress ?? context?.req?.connection?.remoteAddress;
  if (typeof raw !== 'string' || !isIP(raw)) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(raw);
  return mapped ? mapped[1] : raw;
}

function jsonError(code: string, message: string, status: number): Response {
  return new Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
}

/**
 * Refuses a body larger than `maxBytes` with 413 REQUEST_ENTITY_TOO_LARGE (by its
 * Content-Length, or while it streams when it has none), and a POST whose Content-Type no
 * GraphQL parser accepts with 415 UNSUPPORTED_MEDIA_TYPE, each with a JSON body and a code
 * (Yoga answers the first with a masked error and the second with an empty body).
 */
export function useRequestLimits(maxBytes: number): GatewayPlugin {
  const tooLarge = () =>
    requestError('REQUEST_ENTITY_TOO_LARGE', `The request body is larger than ${maxBytes} bytes.`);
  return {
    onRequestParse({ request, requestParser, setRequestParser, endResponse }) {
      const length = request.headers.get('content-length');
      if (length !== null && /^\d+$/.test(length) && Number(length) > maxBytes) {
        const error = tooLarge();
        endResponse(jsonError('REQUEST_ENTITY_TOO_LARGE', error.message, 413));
        return;
      }
      if (request.method === 'POST' && requestParser == null) {
        endResponse(
          jsonError(
            'UNSUPPORTED_MEDIA_TYPE',
            'Send the GraphQL request as JSON (Content-Type: application/json).',
            415,
          ),
        );
        return;
      }
      if (requestParser == null || request.body == null) return;
      const parse = requestParser;
      setRequestParser((req: Request) => {
        let read = 0;
        const limited = req.body!.pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              read += chunk.byteLength;
              if (read > maxBytes) controller.error(tooLarge());
              else controller.enqueue(chunk);
            },
          }),
        );
        return parse(
          new Request(req.url, {
            method: req.method,
            headers: req.headers,
            body: limited,
            signal: req.signal,
            // @ts-expect-error duplex is required by Node for a streamed body
            duplex: 'half',
          }),
        );
      });
    },
  };
}

const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$|^https?:\/\/\[[0-9A-Fa-f:]+\](:\d{1,5})?$/;

/** The origins of SHOP_CORS_ORIGINS (comma-separated, exact `scheme://host[:port]`). */
export function parseOrigins(raw: string | undefined): Set<string> {
  const origins = new Set<string>();
  for (const entry of (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!ORIGIN.test(entry)) {
      throw new Error(
        `SHOP_CORS_ORIGINS: ${JSON.stringify(entry)} is not an origin such as https://shop.example ` +
          '(no "*", no path, no trailing slash)',
      );
    }
    origins.add(entry);
  }
  return origins;
}

/**
 * CORS for the allowed origins only: a request whose Origin is listed gets it back with
 * credentials allowed; any other origin gets no CORS header at all, so a browser keeps the
 * answer from the page. Nothing is ever reflected.
 */
export function corsFor(origins: Set<string>) {
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (origin === null || !origins.has(origin)) return false as const;
    return {
      origin: [origin],
      credentials: true,
      methods: ['GET', 'POST', 'PUT', 'DELETE'], // PUT and DELETE: the REST API (rest/)
      allowedHeaders: ['content-type', 'authorization', 'x-graphql-csrf', 'apollo-require-preflight', 'idempotency-key'],
      maxAge: 600,
    };
  };
}
