import { categoriesOf, ERROR_CODES, type ErrorCode } from '../src/core/error-codes.js';
import { exitCodeFor } from '../src/core/errors.js';

/** Where the generated catalogue lives, relative to the repository root. */
export const ERROR_DOCS_FILE = 'docs/errors.md';

/**
 * `docs/errors.md`: every error code of the catalogue (src/core/error-codes.ts) with its exit
 * code, meaning and remedy, in alphabetical order. Deterministic, so a test can compare the
 * committed file with what this returns.
 *
 * @example
 * await writeFile('docs/errors.md', renderErrorDocs());
 */
export function renderErrorDocs(): string {
  const codes = (Object.keys(ERROR_CODES) as ErrorCode[]).sort();
  const rows = codes.map((code) => {
    const entry = ERROR_CODES[code];
    const categories = categoriesOf(code)
      .map((category) => `${category} (${exitCodeFor(category)})`)
      .join(', ');
    return `| \`${code}\` | ${categories} | ${cell(entry.meaning)} | ${cell(entry.remedy)} |`;
  });
  return [
    '# Error codes',
    '',
    '<!-- Generated from src/core/error-codes.ts by `npx tsx scripts/generate-error-docs.ts`; do not edit. -->',
    '',
    'Every failure Ferry reports carries one of these codes: `error.code` in the output of a',
    'command run with `--json`, and `code` on the `FerryError` the library throws. Codes are stable,',
    'so scripts may match on them; messages are for people and may change. The category decides',
    'the exit code: `problem` and',
    '`internal` exit 1, `usage` and `input` exit 2, `environment` exits 3. A code listed with',
    'several categories takes the one that fits the failure (a target error follows its SQLSTATE).',
    '',
    '| code | category (exit code) | meaning | what to do |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}
