// Distributed tracing of the gateway (OpenTelemetry), and the request id the client gets back.
//
// On when OTEL_EXPORTER_OTLP_ENDPOINT is set (the standard variable the subgraphs read too):
// Hive Gateway's OpenTelemetry plugin then traces each request (HTTP, parse, validate,
// execute, and every subgraph call), continuing a valid W3C `traceparent` from the client (a
// malformed one is ignored and a new trace starts) and sending `traceparent` on to the
// subgraphs, which continue the trace. Spans go over OTLP/HTTP (protobuf, as the subgraphs
// send them) to <endpoint>/v1/traces.
// When the variable is unset, `openTelemetryFromEnv` answers undefined: no provider is
// installed and the plugin is not loaded.
//
// The gateway's spans carry no GraphQL document: the plugin records it as
// `graphql.document`, and a client may write a card number or a password into it as a literal
// (the logs never hold one either, see logging.ts). `WithoutDocuments` drops it before export.
//
// Why not the CLI's `--opentelemetry` flag: it hands the endpoint to the exporter as the full
// URL, so a base endpoint (http://jaeger:4318, as the standard variable holds) would be posted
// to without /v1/traces. The exporter built here reads the variable itself, as the standard
// says.
import type { GatewayPlugin } from '@graphql-hive/gateway';
import { openTelemetrySetup } from '@graphql-hive/gateway/opentelemetry/setup';
import type { LogLevel, LogWriter } from '@graphql-hive/logger';
import { trace, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import {
  BatchSpanProcessor,
  type ReadableSpan,
  type Span,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { AsyncLocalStorage } from 'node:async_hooks';

const DOCUMENT_ATTRIBUTE = 'graphql.document';
// Polled by orchestrators and the stack's start-up: a trace each would drown the useful ones.
const PROBES = new Set(['/healthcheck', '/readiness']);

/** A span processor that removes the GraphQL document from each span before `inner` sees it. */
class WithoutDocuments implements SpanProcessor {
  constructor(private readonly inner: SpanProcessor) {}

  onStart(span: Span, parentContext: Context): void {
    this.inner.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    delete (span.attributes as Record<string, unknown>)[DOCUMENT_ATTRIBUTE];
    this.inner.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

/**
 * The gateway config's `openTelemetry` setting: installs the tracer provider and answers the
 * plugin's options when OTEL_EXPORTER_OTLP_ENDPOINT is set, else undefined (tracing off).
 */
export function openTelemetryFromEnv() {
  if (!process.env.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  openTelemetrySetup({
    contextManager: new AsyncLocalStorageContextManager(),
    resource: { serviceName: 'shop-gateway' },
    traces: { processors: [new WithoutDocuments(new BatchSpanProcessor(new OTLPTraceExporter()))] },
  });
  return {
    traces: { spans: { http: ({ request }: { request: Request }) => !PROBES.has(new URL(request.url).pathname) } },
  };
}

// The request id of the request being handled, for the log lines written meanwhile.
const currentRequestId = new AsyncLocalStorage<string>();

/**
 * Returns the gateway's request id (the one it forwards to the subgraphs as x-request-id) to
 * the client in the `x-request-id` response header, so that a client can quote it and an
 * operator find the request's log lines and trace; and keeps it for the log lines written
 * while the request is handled (`CorrelatingWriter`).
 */
export function useRequestIdHeader(requestIdOf: (request: Request) => string): GatewayPlugin {
  return {
    instrumentation: {
      request: ({ request }, wrapped) => currentRequestId.run(requestIdOf(request), wrapped),
    },
    onResponse({ request, response }) {
      response.headers.set('x-request-id', requestIdOf(request));
    },
  };
}

/**
 * Adds `requestId` and, with tracing on, `traceId` to every line written while a request is
 * handled, as the subgraphs' log lines carry `request_id` and `trace_id`.
 */
export class CorrelatingWriter implements LogWriter {
  constructor(private readonly inner: LogWriter) {}

  write(level: LogLevel, attrs: any, msg: string | null | undefined) {
    const requestId = currentRequestId.getStore();
    const span = trace.getActiveSpan()?.spanContext();
    const traceId = span && span.traceId !== '00000000000000000000000000000000' ? span.traceId : undefined;
    if (requestId === undefined && traceId === undefined) return this.inner.write(level, attrs, msg);
    const base = attrs !== null && typeof attrs === 'object' && !Array.isArray(attrs) ? attrs : { attrs };
    return this.inner.write(level, { requestId, traceId, ...base }, msg);
  }

  flush() {
    return this.inner.flush?.();
  }
}
