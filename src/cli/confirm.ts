import { createInterface } from 'node:readline/promises';
import type { CodeWithCategory } from '../core/error-codes.js';
import { FerryError, type FerryErrorOptions } from '../core/errors.js';
import type { Output } from './output.js';

/**
 * DESIGN.md invariant 6: a destructive step asks on a terminal and needs `--yes` elsewhere.
 * Resolves when confirmed; throws a usage error (exit 2) when refused or not confirmable.
 *
 * @example
 * declare const flags: { yes?: boolean };
 * declare const out: Output;
 * await confirmDestructive(out, '--force empties the mapped tables', 'Empty them and load again?', flags.yes === true);
 */
export async function confirmDestructive(
  out: Output,
  what: string,
  question: string,
  yes: boolean,
): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY) {
    throw new FerryError(what, {
      code: 'CONFIRMATION_REQUIRED',
      category: 'usage',
      hint: 'rerun with --yes to confirm',
    });
  }
  out.error(what);
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await prompt.question(`${question} [y/N] `);
  prompt.close();
  if (!/^y(es)?$/i.test(answer.trim()))
    throw new FerryError('cancelled', { code: 'CANCELLED', category: 'usage' });
}

/**
 * A whole-number flag, or undefined when not given; anything else is a usage error.
 *
 * @example
 * declare const flags: { batchSize?: string };
 * const batchSize = countFlag('--batch-size', flags.batchSize) ?? 1000;
 */
export function countFlag(flag: string, text: string | undefined, min = 1): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    throw new FerryError(`${flag} must be an integer of at least ${min}, not "${text}"`, {
      code: 'USAGE_BAD_NUMBER',
      category: 'usage',
    });
  }
  return n;
}

/**
 * A comma-separated list flag (`--only a,b`), or undefined when not given.
 *
 * @example
 * listFlag(' sales, users ,') // ['sales', 'users']
 */
export function listFlag(text: string | undefined): string[] | undefined {
  return text
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * `--force` on a load: it empties the mapped tables with their checkpoints and rejects, so
 * it asks first (DESIGN.md invariant 6).
 *
 * @example
 * declare const flags: { force?: boolean; yes?: boolean };
 * declare const out: Output;
 * if (flags.force) await confirmReload(out, ['public'], flags.yes === true);
 */
export function confirmReload(out: Output, schemas: readonly string[], yes: boolean): Promise<void> {
  const what = `--force empties the mapped tables in schema(s) ${schemas.join(', ')} and their checkpoints and rejects`;
  return confirmDestructive(out, what, 'Empty them and load again?', yes);
}

/**
 * A flag that takes one of a fixed set of words; anything else is a usage error naming them.
 *
 * @example
 * declare const flags: { level: string };
 * const level = choiceFlag('--level', flags.level, ['count', 'deep', 'sample'] as const);
 */
export function choiceFlag<T extends string>(
  flag: string,
  text: string,
  choices: readonly T[],
  code: CodeWithCategory<'usage'> = 'USAGE_BAD_OPTION',
): T {
  const choice = choices.find((c) => c === text);
  if (choice !== undefined) return choice;
  throw new FerryError(`${flag} must be one of ${choices.join(', ')}, not ${JSON.stringify(text)}`, {
    code,
    category: 'usage',
  } as FerryErrorOptions);
}
