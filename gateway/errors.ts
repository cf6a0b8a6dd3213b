// What the gateway lets a client see of an error.
//
// The codes come from one catalogue, shopkit/errors.py, copied into error-codes.json by
// `make schema` (a test fails when the copy is stale). An error carrying one of those codes
// reaches the client with its message; anything else becomes "Unexpected error." with the code
// INTERNAL_SERVER_ERROR, and only a sanitized summary of it is logged.
//
// Request errors (the request is refused before anything executes: parse, validation,
// variable coercion, a bad operation name, a malformed body) answer HTTP 400 whatever the
// Accept header, as Apollo Server and most GraphQL-over-HTTP clients expect: the GraphQL over
// HTTP draft lets an application/json answer use 200 for them, but a 400 is what proxies,
// metrics and a human with curl understand as "your request is wrong". Field errors (raised
// while executing, next to `data`) keep 200.
//
// Variable values never appear in an answer or a log: graphql-js writes the rejected value
// into its coercion messages (`Variable "$p" got invalid value "4242…"`), so the gateway
// checks the variables itself before executing (useVariableErrors) and words each problem
// without the value.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GatewayPlugin } from '@graphql-hive/gateway';
import {
  coerceInputValue,
  getOperationAST,
  GraphQLError,
  isInputType,
  isNonNullType,
  print,
  typeFromAST,
  type ExecutionArgs,
  type GraphQLInputType,
  type TypeNode,
  type VariableDefinitionNode,
} from 'graphql';

const here = dirname(fileURLToPath(import.meta.url));

interface CatalogueEntry {
  status: number;
  meaning: string;
}

/** The error-code catalogue (generated from shopkit/errors.py). */
export const CATALOGUE: Record<string, CatalogueEntry> = JSON.parse(
  readFileSync(resolve(here, 'error-codes.json'), 'utf8'),
).codes;

export const UNEXPECTED = 'Unexpected error.';
export const INTERNAL = 'INTERNAL_SERVER_ERROR';

/** Codes a request error can carry: the status is the catalogue's, or 400. */
const REQUEST_ERROR_CODES = new Set([
  'BAD_REQUEST',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
]);

/** Extensions a subgraph or a library adds that a client must not see. */
const HIDDEN_EXTENSIONS = ['exception', 'stacktrace', 'serviceName', 'originalError', 'request', 'response'];

const MAX_VARIABLE_ERRORS = 20;

export function statusOf(code: string): number {
  return CATALOGUE[code]?.status ?? 500;
}

export function isCatalogued(code: unknown): code is string {
  return typeof code === 'string' && code in CATALOGUE;
}

/** An error the gateway itself refuses a request with (code, status, no value echoed). */
export function requestError(
  code: string,
  message: string,
  options: { status?: number; nodes?: readonly VariableDefinitionNode[] } = {},
): GraphQLError {
  return new GraphQLError(message, {
    nodes: options.nodes,
    extensions: { code, http: { status: options.status ?? statusOf(code) } },
  });
}

/**
 * Removes what a log line must never hold from a text: the value graphql-js echoes in a
 * variable-coercion message, the body snippet of a JSON parse error, and any run of 13 to 19
 * digits (a card number's length).
 */
/** A variable-coercion message of graphql-js or graphql-core (a subgraph's). */
export const COERCION_MESSAGE = /^Variable ["']\$\w+["'] (?:got|has) invalid value/;

export function sanitizeText(text: string): string {
  return text
    .replace(/(Variable ["']\$\w+["'] (?:got|has) invalid value)[\s\S]*/g, '$1 [redacted]')
    .replace(/, "[\s\S]*" is not valid JSON/g, ': the body is not valid JSON')
    .replace(/\d{13,19}/g, '[redacted]');
}

/** Words graphql-js's reason for refusing a value without the value itself. */
export function valueFreeReason(message: string): string {
  const reason = message.replace(/ Did you mean [\s\S]*$/, '');
  const keep = [
    /^Expected type "\w+" to be an object\.$/,
    /^Expected non-nullable type "[\w[\]!]+" not to be null\.$/,
    /^Field "\w+" of required type "[\w[\]!]+" was not provided\.$/,
    /^Field "\w+" is not defined by type "\w+"\.$/,
    /^Field "\w+" must be non-null\.$/,
    /^Exactly one key must be specified for OneOf type "\w+"\.$/,
  ];
  if (keep.some((pattern) => pattern.test(reason))) return reason;
  const scalar = /^(\w+ cannot represent [\w -]+?): /.exec(reason);
  if (scalar) return `${scalar[1].replace(/cannot represent value$/, 'cannot represent this value')}.`;
  const enumValue = /does not exist in "(\w+)" enum\.$/.exec(reason);
  if (enumValue) return `The value does not exist in the "${enumValue[1]}" enum.`;
  return 'The value does not have the expected type.';
}

function printPath(path: readonly (string | number)[]): string {
  return path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${key}`)).join('');
}

/** The problems with the variables of the operation to execute, each without its value. */
export function variableErrors(args: ExecutionArgs): GraphQLError[] {
  const operation = getOperationAST(args.document, args.operationName ?? undefined);
  const definitions = operation?.variableDefinitions ?? [];
  const inputs = (args.variableValues ?? {}) as Record<string, unknown>;
  const errors: GraphQLError[] = [];
  for (const definition of definitions) {
    if (errors.length >= MAX_VARIABLE_ERRORS) break;
    const name = definition.variable.name.value;
    const type = typeFromAST(args.schema, definition.type as TypeNode & { kind: never });
    if (!type || !isInputType(type)) continue; // validation has refused the document already
    const typeName = print(definition.type);
    const refuse = (message: string) =>
      errors.push(requestError('BAD_USER_INPUT', message, { status: 400, nodes: [definition] }));
    if (!Object.prototype.hasOwnProperty.call(inputs, name) || inputs[name] === undefined) {
      if (!definition.defaultValue && isNonNullType(type)) {
        refuse(`Variable "$${name}" of required type "${typeName}" was not provided.`);
      }
      continue;
    }
    if (inputs[name] === null && isNonNullType(type)) {
      refuse(`Variable "$${name}" of non-null type "${typeName}" must not be null.`);
      continue;
    }
    coerceInputValue(inputs[name], type as GraphQLInputType, (path, _value, error) => {
      if (errors.length >= MAX_VARIABLE_ERRORS) return;
      const at = path.length ? ` at "${name}${printPath(path)}"` : '';
      refuse(`Variable "$${name}" got an invalid value${at}: ${valueFreeReason(error.message)}`);
    });
  }
  return errors;
}

/**
 * Validation errors answer 400 whatever the Accept header. Yoga marks them to answer 200 to an
 * application/json request (and they never pass through maskError); this runs after it.
 */
export function useValidationErrorStatus(): GatewayPlugin {
  return {
    onValidate() {
      return ({ valid, result }) => {
        if (valid) return;
        for (const error of result) {
          const extensions = error.extensions as Record<string, unknown>;
          extensions.code ??= 'GRAPHQL_VALIDATION_FAILED';
          extensions.http = { status: 400, spec: false }; // spec: true would mean 200
        }
      };
    },
  };
}

/** Refuses an operation whose variables do not coerce, with BAD_USER_INPUT and HTTP 400. */
export function useVariableErrors(): GatewayPlugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const errors = variableErrors(args);
      if (errors.length) setResultAndStopExecution({ errors });
    },
  };
}

interface Log {
  error(attrs: Record<string, unknown>, message: string): void;
}

/**
 * The maskedErrors hook. An error with a catalogued code is cleaned in place (hidden
 * extensions removed, the status of a request error set) and returned as it is: Yoga logs
 * every error this hook replaces, with whatever the original holds, so nothing is replaced
 * that need not be. Anything else is logged here, sanitized, and becomes "Unexpected error.".
 */
export function maskError(error: unknown, log: Log): Error {
  if (error instanceof GraphQLError) {
    const extensions = error.extensions as Record<string, unknown>;
    const code = extensions?.code;
    const gatewayMade = error.originalError === undefined && error.path === undefined;
    if (code === undefined && gatewayMade) {
      // A request error of graphql-js or Yoga without a code (the CSRF refusal, 403): give it
      // one, in place; its status stays, 400 if it has none.
      const coercion = /^Variable ["']\$\w+["']/.test(error.message);
      const status = (extensions?.http as { status?: number } | undefined)?.status ?? 400;
      error.message = sanitizeText(error.message);
      const own = (error.extensions ?? {}) as Record<string, unknown>;
      own.code = coercion ? 'BAD_USER_INPUT' : 'BAD_REQUEST';
      own.http = { status };
      for (const key of HIDDEN_EXTENSIONS) delete own[key];
      return error;
    }
    if (isCatalogued(code) && (code !== INTERNAL || error.message === UNEXPECTED)) {
      for (const key of HIDDEN_EXTENSIONS) delete extensions[key];
      if (REQUEST_ERROR_CODES.has(code) && error.path === undefined) {
        extensions.http = { status: statusOf(code), spec: false };
      }
      return error;
    }
    log.error(
      { code: typeof code === 'string' ? code : undefined, path: error.path, message: sanitizeText(error.message) },
      'unexpected error, masked',
    );
    return new GraphQLError(UNEXPECTED, { path: error.path, extensions: { code: INTERNAL } });
  }
  const message = error instanceof Error ? error.message : String(error);
  log.error({ message: sanitizeText(message) }, 'unexpected error, masked');
  return new GraphQLError(UNEXPECTED, { extensions: { code: INTERNAL } });
}
