import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../support/services.js';

/**
 * Outside target/, code asks the target what it can do (`db.capabilities`), never which
 * database it is: a branch on `kind` silently picks the wrong path for the next target
 * (a pooler, a managed service) and cannot be tested by declaring a capability.
 */
const KIND_CHECK =
  /\.kind\s*[!=]==?\s*['"](postgres|pglite)['"]|['"](postgres|pglite)['"]\s*[!=]==?\s*\w+\.kind\b/;

function kindChecks(root: string): string[] {
  const found: string[] = [];
  for (const file of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    const relative = file.split(path.sep).join('/');
    if (!relative.endsWith('.ts') || relative.startsWith('target/')) continue;
    readFileSync(path.join(root, file), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (KIND_CHECK.test(line)) found.push(`src/${relative}:${i + 1}: ${line.trim()}`);
      });
  }
  return found;
}

describe('target kind', () => {
  it('is never what code outside target/ branches on', () => {
    expect(kindChecks(path.join(repoRoot, 'src'))).toEqual([]);
  });

  it('is recognised in either order and with either quote', () => {
    for (const line of [
      "binaryCopy: db.kind === 'postgres',",
      'if (target.kind !== "pglite") return;',
      "if ('pglite' === db.kind) return;",
    ])
      expect(KIND_CHECK.test(line)).toBe(true);
    for (const line of ["if (location.kind === 'column')", 'binaryCopy: db.capabilities.binaryCopy,'])
      expect(KIND_CHECK.test(line)).toBe(false);
  });
});
