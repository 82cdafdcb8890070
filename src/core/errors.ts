import type { CategoryOf, ErrorCode } from './error-codes.js';
import { redactSecrets } from './redact.js';

export type { ErrorCode } from './error-codes.js';

/**
 * How a failure should be treated by whoever catches it.
 * - `terminal`: retrying the same thing will fail the same way (bad input, bad config).
 * - `transient`: the environment may recover (a server restarting, a lock timeout).
 *
 * @example
 * declare const error: unknown;
 * declare function retryLater(): Promise<void>;
 * if (error instanceof FerryError && error.errorClass === 'transient') await retryLater();
 */
export type ErrorClass = 'terminal' | 'transient';

/**
 * What kind of failure this is from the user's point of view; it decides the exit code
 * (DESIGN.md "Command line"): `problem` 1, `usage`/`input` 2, `environment` 3.
 *
 * @example
 * declare const error: unknown;
 * if (error instanceof FerryError && error.category === 'environment') console.error('is the database up?');
 */
export type ErrorCategory = 'problem' | 'usage' | 'input' | 'environment' | 'internal';

/**
 * Where in the input a failure happened. Every field is optional; fill what is known.
 *
 * @example
 * throw new FerryError('bad line', { code: 'SOURCE_BAD_JSON', category: 'input', where: { file: 'users.json', line: 12, collection: 'users' } });
 */
export interface ErrorLocation {
  readonly file?: string;
  readonly offset?: number;
  readonly line?: number;
  readonly collection?: string;
  readonly id?: string;
  readonly path?: string;
}

interface FerryErrorFields {
  readonly class?: ErrorClass;
  readonly cause?: unknown;
  readonly where?: ErrorLocation;
  /** What the user can do about it; appended to the message. */
  readonly hint?: string;
}

/**
 * A code from the catalogue (error-codes.ts) with a category that the catalogue allows for
 * it: an unknown code, or a code raised in a category it is not documented with, does not
 * compile.
 */
export type FerryErrorOptions = {
  readonly [C in ErrorCode]: FerryErrorFields & { readonly code: C; readonly category: CategoryOf<C> };
}[ErrorCode];

/**
 * The one error base class. `code` is stable and documented, so scripts may match on it;
 * the message is for people and may change.
 *
 * @example
 * throw new FerryError('cannot read dump: file is truncated', {
 *   code: 'SOURCE_TRUNCATED', category: 'input', where: { file: 'a.bson', offset: 1234 },
 * });
 */
export class FerryError extends Error {
  readonly code: ErrorCode;
  readonly category: ErrorCategory;
  readonly errorClass: ErrorClass;
  readonly where: ErrorLocation;
  readonly hint: string | undefined;

  constructor(message: string, options: FerryErrorOptions) {
    const full = composeMessage(message, options.where, options.hint);
    super(redactSecrets(full), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FerryError';
    this.code = options.code;
    this.category = options.category;
    this.errorClass = options.class ?? (options.category === 'environment' ? 'transient' : 'terminal');
    this.where = options.where ?? {};
    this.hint = options.hint;
  }

  get exitCode(): ExitCode {
    return exitCodeFor(this.category);
  }

  get transient(): boolean {
    return this.errorClass === 'transient';
  }
}

/**
 * The exit codes of the CLI (DESIGN.md "Command line"), for scripts that run Ferry's library
 * and want to exit as `ferry` would.
 *
 * @example
 * declare const result: MigrateResult;
 * process.exitCode = result.ok ? ExitCode.ok : ExitCode.problem;
 */
export const ExitCode = { ok: 0, problem: 1, usage: 2, environment: 3 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The exit code for an error category: bad usage and bad input 2, the environment 3, a
 * problem found (or a bug in Ferry) 1.
 *
 * @example
 * exitCodeFor('environment')   // 3
 */
export function exitCodeFor(category: ErrorCategory): ExitCode {
  switch (category) {
    case 'problem':
      return ExitCode.problem;
    case 'usage':
    case 'input':
      return ExitCode.usage;
    case 'environment':
      return ExitCode.environment;
    case 'internal':
      // A bug in Ferry is not the user's input, and is not the environment; 1 tells scripts
      // that something ran and went wrong, which is the honest reading.
      return ExitCode.problem;
  }
}

function composeMessage(message: string, where: ErrorLocation | undefined, hint: string | undefined): string {
  const place = where ? describeLocation(where) : '';
  return [message, place && `(${place})`, hint && `— ${hint}`].filter(Boolean).join(' ');
}

/** `file a.bson, offset 12, collection db.sales, _id 5f…` in a fixed order. */
export function describeLocation(where: ErrorLocation): string {
  const parts: string[] = [];
  if (where.file !== undefined) parts.push(`file ${where.file}`);
  if (where.line !== undefined) parts.push(`line ${where.line}`);
  if (where.offset !== undefined) parts.push(`offset ${where.offset}`);
  if (where.collection !== undefined) parts.push(`collection ${where.collection}`);
  if (where.id !== undefined) parts.push(`_id ${where.id}`);
  if (where.path !== undefined) parts.push(`path ${where.path}`);
  return parts.join(', ');
}

/** Wrap anything thrown into a FerryError, keeping FerryErrors as they are. */
export function asFerryError(error: unknown): FerryError {
  if (error instanceof FerryError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new FerryError(`unexpected error: ${message}`, {
    code: 'INTERNAL',
    category: 'internal',
    cause: error,
  });
}
