import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FerryError } from '../core/errors.js';
import { renderVerifyHtml } from '../verify/report-html.js';
import type { VerifyResult } from '../verify/types.js';
import type { VerifyOptions } from '../verify/verify.js';

/** The verification flags `ferry verify` and `ferry migrate` share (shared-flags.ts declares them). */
export interface VerifyFlags {
  readonly fraction?: string;
  readonly seed?: string;
  readonly showValues?: boolean;
  readonly maxDifferences?: string;
  readonly report?: string;
}

/** What the verification flags set in `verify()`'s options. */
export type VerifyTuning = Pick<VerifyOptions, 'fraction' | 'seed' | 'showValues' | 'maxDifferences'>;

/**
 * The verification flags as `verify()` options; a value that is not a number is a usage error.
 *
 * @example
 * verifyTuning({ fraction: '0.25', seed: '7' })   // { fraction: 0.25, seed: 7, showValues: false, maxDifferences: 1000 }
 */
export function verifyTuning(flags: VerifyFlags): VerifyTuning {
  return {
    fraction: number(flags.fraction ?? '0.1', '--fraction'),
    ...(flags.seed !== undefined && { seed: number(flags.seed, '--seed') }),
    showValues: flags.showValues === true,
    maxDifferences: number(flags.maxDifferences ?? '1000', '--max-differences'),
  };
}

/**
 * Write `--report` for the verified schemas: the file as named for one schema; for several,
 * one file per schema with the schema's name before the extension (`report.app.html`).
 * Returns the files written.
 *
 * @example
 * declare const result: VerifyResult;
 * await writeVerifyReports('verify.html', [result]); // ['verify.html']
 */
export async function writeVerifyReports(file: string, results: readonly VerifyResult[]): Promise<string[]> {
  const written: string[] = [];
  for (const result of results) {
    const name = results.length === 1 ? file : perSchema(file, result.schema);
    await writeFile(name, renderVerifyHtml(result));
    written.push(name);
  }
  return written;
}

function perSchema(file: string, schema: string): string {
  const extension = path.extname(file);
  return `${file.slice(0, file.length - extension.length)}.${schema}${extension}`;
}

function number(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n))
    throw new FerryError(`${flag} must be a number, not ${JSON.stringify(text)}`, {
      code: 'VERIFY_BAD_OPTION',
      category: 'usage',
    });
  return n;
}
