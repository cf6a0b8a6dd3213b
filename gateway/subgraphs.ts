// Calls from the gateway to the subgraphs: a deadline on each, and what a client sees when one
// fails.
//
// Each subgraph call gets SHOP_SUBGRAPH_TIMEOUT_SECONDS; past it the call is aborted and the
// client sees SERVICE_UNAVAILABLE, as it does when a subgraph is unreachable or answers
// something that is not GraphQL. The transport's own errors are never passed on: they carry the
// whole subgraph request body (the query and its variables: card numbers, passwords) in their
// extensions, and Yoga would log them. Instead one line is logged per failure, naming the
// subgraph, the operation, the request id and the kind of failure, never a body or a variable.
//
// The errors a subgraph sends on purpose (a catalogued code) pass with their message and the
// extensions the client may see; an error without a code (a Strawberry coercion message, an
// unmasked exception) is logged sanitized and answered as BAD_USER_INPUT (a coercion) or
// "Unexpected error.".
import type { GatewayPlugin } from '@graphql-hive/gateway';
import { GraphQLError, Kind, type DocumentNode, type ExecutionResult } from 'graphql';
import { COERCION_MESSAGE, INTERNAL, isCatalogued, sanitizeText, UNEXPECTED } from './errors.ts';

export const UNAVAILABLE_MESSAGE =
  'A service of the shop did not answer in time; try again shortly (a payment or order ' +
  'submitted with an idempotency key may have gone through: retry it with the same key).';

/** Codes Hive's HTTP transport gives to a call that did not produce a GraphQL answer. */
const TRANSPORT_CODES = new Set([
  'SUBREQUEST_HTTP_ERROR',
  'RESPONSE_VALIDATION_FAILED',
  'GATEWAY_TIMEOUT',
  'DOWNSTREAM_SERVICE_ERROR',
]);
const HIDDEN_EXTENSIONS = ['exception', 'stacktrace', 'serviceName', 'originalError', 'request', 'response', 'http'];

interface Log {
  warn(attrs: Record<string, unknown>, message: string): void;
  error(attrs: Record<string, unknown>, message: string): void;
}

interface Call {
  subgraph: string;
  fields?: string; // the root fields asked of the subgraph
  operationName?: string;
  requestId?: string;
}

class SubgraphTimeout extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

function unavailable(): GraphQLError {
  return new GraphQLError(UNAVAILABLE_MESSAGE, { extensions: { code: 'SERVICE_UNAVAILABLE' } });
}

/** What went wrong with a transport error, without its message (which may quote a body). */
function failureKind(error: { extensions?: Record<string, any>; originalError?: any; message?: string }): string {
  const extensions = error.extensions ?? {};
  const cause = error.originalError?.cause ?? error.originalError;
  const errno = cause?.code ?? error.originalError?.code;
  if (typeof errno === 'string') return errno; // ECONNREFUSED, ECONNRESET, UND_ERR_…
  const status = extensions.response?.status;
  if (typeof status === 'number') return `HTTP ${status}`;
  if (typeof extensions.code === 'string') return extensions.code;
  return 'unknown';
}

function rootFields(document: DocumentNode): string | undefined {
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (!operation || operation.kind !== Kind.OPERATION_DEFINITION) return undefined;
  const names = operation.selectionSet.selections
    .filter((s) => s.kind === Kind.FIELD && s.name.value !== '__typename')
    .map((s) => (s.kind === Kind.FIELD ? s.name.value : ''));
  return names.length ? names.join(', ') : undefined;
}

function cleanError(error: GraphQLError, call: Call, log: Log): GraphQLError {
  const extensions = { ...(error.extensions ?? {}) } as Record<string, unknown>;
  const code = extensions.code;
  if (isCatalogued(code) && !(code === INTERNAL && error.message !== UNEXPECTED)) {
    for (const key of HIDDEN_EXTENSIONS) delete extensions[key];
    return new GraphQLError(error.message, { path: error.path, extensions });
  }
  if (typeof code === 'string' && TRANSPORT_CODES.has(code)) {
    log.warn({ ...call, failure: failureKind(error) }, 'subgraph call failed');
    return unavailable();
  }
  if (COERCION_MESSAGE.test(error.message)) {
    // The gateway renamed the client's variables for this call: name the field instead.
    log.warn({ ...call, message: sanitizeText(error.message) }, 'subgraph refused a variable');
    const field = error.path?.length
      ? error.path.filter((key) => typeof key === 'string').join('.')
      : call.fields;
    return new GraphQLError(
      field ? `An argument of "${field}" has an invalid value.` : 'An argument has an invalid value.',
      { path: error.path, extensions: { code: 'BAD_USER_INPUT' } },
    );
  }
  log.error(
    { ...call, code: typeof code === 'string' ? code : undefined, path: error.path, message: sanitizeText(error.message) },
    'subgraph error without a catalogued code, masked',
  );
  return new GraphQLError(UNEXPECTED, { path: error.path, extensions: { code: INTERNAL } });
}

function cleanResult(result: ExecutionResult, call: Call, log: Log): ExecutionResult {
  if (!result?.errors?.length) return result;
  return { ...result, errors: result.errors.map((e) => cleanError(e as GraphQLError, call, log)) };
}

/**
 * Wraps every subgraph executor: a deadline of `timeoutMs` (the upstream request is aborted
 * when it passes) and the error handling described above. Subscriptions are left alone (a
 * stream has no deadline).
 */
export function useSubgraphFailures(
  timeoutMs: number,
  log: Log,
  requestIdOf: (context: any) => string | undefined,
): GatewayPlugin {
  return {
    onSubgraphExecute({ subgraphName, executionRequest, executor, setExecutor }) {
      if (executionRequest.operationType === 'subscription') return;
      const call: Call = {
        subgraph: subgraphName,
        fields: rootFields(executionRequest.document),
        operationName: executionRequest.operationName,
        requestId: requestIdOf(executionRequest.context),
      };
      setExecutor((request) => {
        const deadline = new AbortController();
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timedOut = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const reason = new SubgraphTimeout(timeoutMs);
            deadline.abort(reason);
            reject(reason);
          }, timeoutMs);
        });
        const signal = request.signal ? AbortSignal.any([request.signal, deadline.signal]) : deadline.signal;
        const running = Promise.resolve().then(() => executor({ ...request, signal }));
        return Promise.race([running, timedOut])
          .then((result) => {
            if (result && typeof result === 'object' && Symbol.asyncIterator in result) return result;
            return cleanResult(result as ExecutionResult, call, log);
          })
          .catch((error: unknown) => {
            const failure =
              error instanceof SubgraphTimeout
                ? `timeout after ${error.ms} ms`
                : failureKind(error as GraphQLError);
            log.warn({ ...call, failure }, 'subgraph call failed');
            return { errors: [unavailable()] } as ExecutionResult;
          })
          .finally(() => clearTimeout(timer)) as any;
      });
    },
  };
}
