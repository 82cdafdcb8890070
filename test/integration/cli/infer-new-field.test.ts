import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFerry } from '../../support/cli.js';
import { customers, orders, planInput, writeSource } from '../load/support.js';

/**
 * Issue 11: a field added to the source after the mapping was written lands in `_extra`.
 * `infer --check` names it as a new field that is not mapped, with the column that maps it.
 */
describe('ferry infer --check on a source that grew a field', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await writeSource({
      customers: customers(10).map((c, i) => ({ ...c, tier: i % 2 === 0 ? 'gold' : 'silver' })),
      orders: orders(40),
    });
    await writeFile(
      path.join(dir, 'ferry.config.ts'),
      `export default ${JSON.stringify({ source: dir, mapping: planInput })};\n`,
    );
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reports each new field as "new field, not mapped" with a column to paste, and still accepts the mapping', async () => {
    const result = await runFerry(['--json', 'infer', '--check'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    const { ok, warnings } = JSON.parse(result.stdout) as {
      ok: boolean;
      warnings: { path: string; reason: string }[];
    };
    expect(ok).toBe(true);
    const tier = warnings.find((w) => w.reason.includes('new field, not mapped: tier'));
    expect(tier?.path).toBe('mapping.collections[0].tables[0].columns');
    expect(tier?.reason).toContain('in 10 of 10 documents');
    expect(tier?.reason).toContain(
      '{"name":"tier","path":["tier"],"pgType":"text","sourceType":"string","nullable":true}',
    );
    const stray = warnings.find((w) => w.reason.includes('new field, not mapped: stray'));
    expect(stray?.path).toBe('mapping.collections[1].tables[0].columns');
    expect(stray?.reason).toContain('"pgType":"jsonb","sourceType":"object"');
    // Mapped fields, the id and the items child table are not reported.
    expect(warnings.filter((w) => w.reason.startsWith('new field'))).toHaveLength(2);
  });
});
