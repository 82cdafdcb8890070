import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../support/services.js';

/**
 * The module boundaries of DESIGN.md ("Folders follow that flow"), checked on the real import
 * graph of src/: a boundary that only lives in a review comment is crossed by the next change.
 */

/** One import between two files of src/, as paths relative to src/ with forward slashes. */
interface ImportEdge {
  readonly from: string;
  readonly to: string;
}

interface BoundaryRule {
  readonly why: string;
  readonly forbids: (from: string, to: string) => boolean;
}

/** The top-level folder of a path relative to src/ (`index.ts` for the entry point itself). */
function moduleOf(file: string): string {
  return file.split('/')[0]!;
}

const RULES: readonly BoundaryRule[] = [
  {
    why: 'mapping/ turns documents into rows and back; it knows no database (the COPY encoders it needs are in copy/)',
    forbids: (from, to) => from === 'mapping' && to === 'target',
  },
  {
    why: 'copy/ encodes rows as COPY bytes for any writer; it knows neither the target nor the loader',
    forbids: (from, to) => from === 'copy' && (to === 'target' || to === 'load'),
  },
  {
    why: 'cli/ is the thin shell over the library: nothing else imports it, so the library works without it',
    forbids: (from, to) => to === 'cli' && from !== 'cli',
  },
];

/** Every relative import, re-export and dynamic import of every .ts file under `root`. */
function readImportGraph(root: string): ImportEdge[] {
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  const edges: ImportEdge[] = [];
  for (const file of files) {
    const from = file.split(path.sep).join('/');
    // The compiler's own pre-parser sees `import type`, `export … from` and `import()` alike.
    const { importedFiles } = ts.preProcessFile(readFileSync(path.join(root, file), 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const to = path.posix.normalize(path.posix.join(path.posix.dirname(from), fileName));
      edges.push({ from, to: to.replace(/\.js$/, '.ts') });
    }
  }
  return edges;
}

/** Each edge that crosses a boundary, as `from -> to: why`. */
function violations(edges: readonly ImportEdge[], rules: readonly BoundaryRule[] = RULES): string[] {
  const found: string[] = [];
  for (const edge of edges) {
    const from = moduleOf(edge.from);
    const to = moduleOf(edge.to);
    if (from === to) continue;
    for (const rule of rules)
      if (rule.forbids(from, to)) found.push(`${edge.from} -> ${edge.to}: ${rule.why}`);
  }
  return found;
}

describe('module boundaries of src/', () => {
  const graph = readImportGraph(path.join(repoRoot, 'src'));

  it('reads static imports, type-only imports and re-exports from every folder', () => {
    const has = (from: string, to: string) => graph.some((e) => e.from === from && e.to === to);
    expect(has('cli/main.ts', 'cli/program.ts')).toBe(true);
    expect(has('index.ts', 'load/index.ts')).toBe(true);
    expect(has('target/target-database.ts', 'mapping/row-values.ts')).toBe(true);
    expect(new Set(graph.map((e) => moduleOf(e.from)))).toEqual(
      new Set(readdirSync(path.join(repoRoot, 'src'))),
    );
  });

  it('has no import that crosses a boundary', () => {
    expect(violations(graph)).toEqual([]);
  });

  it('names a mapping/ file that imports target/, a library file or the entry point that imports cli/', () => {
    const crossing: ImportEdge[] = [
      { from: 'mapping/bson-copy/document-encoder.ts', to: 'target/copy-binary.ts' },
      { from: 'verify/report-text.ts', to: 'cli/output.ts' },
      { from: 'index.ts', to: 'cli/program.ts' },
      { from: 'copy/copy-text.ts', to: 'target/target-database.ts' },
    ];
    const allowed: ImportEdge[] = [
      { from: 'cli/commands/verify.ts', to: 'cli/output.ts' },
      { from: 'cli/commands/verify.ts', to: 'verify/index.ts' },
      { from: 'target/copy-stream.ts', to: 'copy/copy-text.ts' },
      { from: 'mapping/bson-copy/document-encoder.ts', to: 'copy/copy-binary.ts' },
    ];
    const found = violations([...crossing, ...allowed]);
    expect(found).toHaveLength(crossing.length);
    for (const edge of crossing)
      expect(found.some((v) => v.startsWith(`${edge.from} -> ${edge.to}:`))).toBe(true);
  });
});
