import { type DestinationStream, type Logger, pino } from 'pino';
import { redactSecrets } from './redact.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  readonly level?: string;
  /** Force JSON lines even on a terminal (the `--json` flag). */
  readonly json?: boolean;
  /** Where lines go; stderr by default, so stdout stays free for command output. */
  readonly destination?: DestinationStream;
  readonly isTerminal?: boolean;
}

/**
 * A pino logger that prints human-readable lines on a terminal and JSON lines otherwise.
 * Every message and string field passes through `redactSecrets`, because a connection
 * string can end up in any log call (an error's message, a `target` field, …).
 *
 * @example
 * const log = createLogger({ level: 'debug' });
 * log.info({ collection: 'sales' }, 'backfill started');
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.FERRY_LOG_LEVEL ?? 'info';
  const isTerminal = options.isTerminal ?? process.stderr.isTTY === true;
  const base = {
    level,
    base: undefined,
    hooks: { logMethod: redactArguments },
    formatters: { log: redactObject },
    serializers: { err: serializeError },
  };
  if (options.destination) return pino(base, options.destination);
  if (isTerminal && !options.json) {
    return pino({
      ...base,
      transport: {
        target: 'pino-pretty',
        options: { destination: 2, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' },
      },
    });
  }
  return pino(base, pino.destination(2));
}

function redactArguments(
  this: Logger,
  args: Parameters<Logger['info']>,
  method: (...a: unknown[]) => void,
): void {
  method.apply(
    this,
    args.map((value) => (typeof value === 'string' ? redactSecrets(value) : value)),
  );
}

function redactObject(object: Record<string, unknown>): Record<string, unknown> {
  return redactFields(object, 0) as Record<string, unknown>;
}

// Nested fields too ({ options: { target } }); errors go through serializeError instead.
function redactFields(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (depth > 8 || value === null || typeof value !== 'object' || value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((item) => redactFields(item, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) out[key] = redactFields(field, depth + 1);
  return out;
}

function serializeError(error: unknown): unknown {
  const serialized = pino.stdSerializers.err(error as Error);
  return {
    ...serialized,
    message: redactSecrets(serialized.message),
    stack: serialized.stack ? redactSecrets(serialized.stack) : undefined,
  };
}
