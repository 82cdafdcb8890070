import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../support/services.js';

/**
 * The library surface (src/index.ts) is what users rely on: DESIGN.md asks for every export
 * documented with an example, and for test data generators to stay out of it.
 */

interface PublicExport {
  readonly name: string;
  /** The file that defines it, relative to the repository. */
  readonly file: string;
  readonly documented: boolean;
  readonly hasExample: boolean;
}

function publicExports(): PublicExport[] {
  const entry = path.join(repoRoot, 'src/index.ts');
  const config = ts.readConfigFile(path.join(repoRoot, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, repoRoot);
  const program = ts.createProgram([entry], { ...options, noEmit: true });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  return checker.getExportsOfModule(module).map((exported) => {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const declaration = symbol.declarations?.[0];
    return {
      name: exported.name,
      file: declaration ? path.relative(repoRoot, declaration.getSourceFile().fileName) : '',
      documented: symbol.getDocumentationComment(checker).length > 0,
      hasExample: symbol.getJsDocTags(checker).some((tag) => tag.name === 'example'),
    };
  });
}

describe('the public API (src/index.ts)', () => {
  const exports = publicExports();

  it('exports the library, and none of the test data generators', () => {
    const names = exports.map((e) => e.name);
    for (const name of ['backfill', 'verify', 'migrate', 'openSource', 'openTarget', 'toRows', 'toDoc'])
      expect(names).toContain(name);
    expect(exports.filter((e) => e.file.startsWith('src/generate/')).map((e) => e.name)).toEqual([]);
  });

  it('documents every export at its definition, with an @example', () => {
    expect(exports.filter((e) => !e.documented || !e.hasExample).map((e) => `${e.name} (${e.file})`)).toEqual(
      [],
    );
  });
});
