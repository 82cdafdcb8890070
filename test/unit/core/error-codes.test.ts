import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_DOCS_FILE, renderErrorDocs } from '../../../scripts/error-docs.js';
import { categoriesOf, ERROR_CODES, type ErrorCode } from '../../../src/core/error-codes.js';
import { FerryError } from '../../../src/core/errors.js';
import { repoRoot } from '../../support/services.js';

const codes = Object.keys(ERROR_CODES) as ErrorCode[];

async function sourceText(dir: string): Promise<string> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const files = entries.filter((e) => e.isFile() && e.name.endsWith('.ts'));
  const texts = await Promise.all(files.map((e) => readFile(path.join(e.parentPath, e.name), 'utf8')));
  return texts.join('\n');
}

describe('the error code catalogue', () => {
  it('docs/errors.md is what scripts/generate-error-docs.ts writes from the catalogue', async () => {
    const committed = await readFile(path.join(repoRoot, ERROR_DOCS_FILE), 'utf8');
    // On failure: run `npx tsx scripts/generate-error-docs.ts` and commit docs/errors.md.
    expect(committed).toBe(renderErrorDocs());
    for (const code of codes) expect(committed).toContain(`| \`${code}\` |`);
  });

  it('gives every code a meaning, a remedy and at least one category', () => {
    for (const code of codes) {
      const entry = ERROR_CODES[code];
      expect(entry.meaning.length, code).toBeGreaterThan(10);
      expect(entry.remedy.length, code).toBeGreaterThan(5);
      expect(categoriesOf(code).length, code).toBeGreaterThan(0);
      expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
    }
  });

  it('lists only codes that Ferry raises somewhere, so the documentation has no dead entries', async () => {
    const src = (await sourceText(path.join(repoRoot, 'src'))).replace(
      await readFile(path.join(repoRoot, 'src/core/error-codes.ts'), 'utf8'),
      '',
    );
    const unused = codes.filter((code) => !src.includes(`'${code}'`));
    expect(unused).toEqual([]);
  });

  it('has one code for each failure that used to have several', () => {
    for (const retired of [
      'SOURCE_BAD_POSITION',
      'SOURCE_BAD_RESUME',
      'SOURCE_COLLECTION_NOT_FOUND',
      'SOURCE_BAD_OPTIONS',
    ])
      expect(Object.hasOwn(ERROR_CODES, retired), retired).toBe(false);
    for (const kept of ['SOURCE_BAD_RESUME_POSITION', 'SOURCE_UNKNOWN_COLLECTION', 'SOURCE_BAD_OPTION'])
      expect(Object.hasOwn(ERROR_CODES, kept), kept).toBe(true);
  });

  it('types FerryError codes, so an unknown code or a category the catalogue does not allow fails to compile', () => {
    // `npm run typecheck` checks these lines: an @ts-expect-error with no error is itself an error.
    const compileOnly = () => [
      // @ts-expect-error: not a code of the catalogue
      new FerryError('x', { code: 'SOURCE_BAD_POSITION', category: 'usage' }),
      // @ts-expect-error: SOURCE_TRUNCATED is an input error, never an environment one
      new FerryError('x', { code: 'SOURCE_TRUNCATED', category: 'environment' }),
      new FerryError('x', { code: 'SOURCE_TRUNCATED', category: 'input' }),
    ];
    const [unknown, wrongCategory, right] = compileOnly();
    expect(right!.exitCode).toBe(2);
    // At run time nothing stops them; the compiler does.
    expect([unknown!.code, wrongCategory!.code]).toEqual(['SOURCE_BAD_POSITION', 'SOURCE_TRUNCATED']);
  });
});
