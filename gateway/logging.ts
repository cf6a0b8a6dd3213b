// The gateway's log: every line passes through `redact` before it is written.
//
// The errors and plugins above already log no request body or variable; this is the net under
// them, for whatever Hive Gateway, Yoga or a future plugin logs on its own (an error's
// extensions carrying a subgraph request, a debug line with a query). A value under a key that
// names a request's content or a credential is replaced, texts lose what sanitizeText removes
// (an echoed variable value, a JSON body snippet, a card-number-length digit run), and errors
// are reduced to their name, message, code, path and stack, sanitized.
import { ConsoleLogWriter, Logger, type LogLevel, type LogWriter } from '@graphql-hive/logger';
import { sanitizeText } from './errors.ts';
import { CorrelatingWriter } from './tracing.ts';

const SECRET_KEYS = new Set([
  'body',
  'variables',
  'variablevalues',
  'query',
  'document',
  'params',
  'headers',
  'authorization',
  'cookie',
  'password',
  'currentpassword',
  'cvc',
  'card',
  'number',
  'token',
  'secret',
  'x-gateway-secret',
]);
const REDACTED = '[redacted]';
const MAX_DEPTH = 8;

export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return sanitizeText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH || seen.has(value)) return REDACTED;
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, seen));
  if (value instanceof Error) {
    const error = value as Error & { extensions?: unknown; path?: unknown };
    return {
      name: error.name,
      message: sanitizeText(error.message),
      extensions: redact(error.extensions, depth + 1, seen),
      path: error.path,
      stack: error.stack ? sanitizeText(error.stack) : undefined,
    };
  }
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = SECRET_KEYS.has(key.toLowerCase()) ? REDACTED : redact(item, depth + 1, seen);
  }
  return copy;
}

export class RedactingWriter implements LogWriter {
  constructor(private readonly inner: LogWriter) {}

  write(level: LogLevel, attrs: any, msg: string | null | undefined) {
    return this.inner.write(
      level,
      attrs == null ? attrs : (redact(attrs) as any),
      msg == null ? msg : sanitizeText(msg),
    );
  }

  flush() {
    return this.inner.flush?.();
  }
}

/** The gateway's logger: plain text (a file, not a terminal), redacted; a request's lines
 * carry its request id and trace id (tracing.ts). */
export function createLogger(level: LogLevel): Logger {
  const stdout = new ConsoleLogWriter({ noColor: true });
  return new Logger({ level, writers: [new CorrelatingWriter(new RedactingWriter(stdout))] });
}
