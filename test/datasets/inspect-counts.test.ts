import { describe, expect, it } from 'vitest';
import { runFerry } from '../support/cli.js';
import { datasetPath } from '../support/services.js';

interface Inspection {
  kind: string;
  collections: {
    name: string;
    count: number;
    avgBytes: number;
    maxBytes: number;
    rejects: number;
    indexes: { name: string }[];
  }[];
}

async function inspect(location: string): Promise<Inspection> {
  const result = await runFerry(['inspect', location, '--json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Inspection;
}

const archive = datasetPath('sample_supplies.archive.gz');
const mflix = datasetPath('sample_mflix');
const accounts = datasetPath('sample_analytics/accounts.json');

describe('ferry inspect on the real datasets', () => {
  it.skipIf(!archive)(
    'counts exactly 5000 sales in the gzipped mongodump archive, with sizes and indexes',
    async () => {
      const report = await inspect(archive!);
      expect(report.kind).toBe('archive');
      expect(report.collections.map((c) => [c.name, c.count, c.rejects])).toEqual([['sales', 5000, 0]]);
      const [sales] = report.collections;
      expect(sales!.indexes.map((i) => i.name)).toContain('_id_');
      expect(sales!.avgBytes).toBeGreaterThan(200);
      expect(sales!.maxBytes).toBeGreaterThanOrEqual(sales!.avgBytes);
    },
  );

  it.skipIf(!mflix)(
    'counts users 185, theaters 1564 and sessions 1 in a folder of mongoexport files',
    async () => {
      const report = await inspect(mflix!);
      expect(report.kind).toBe('ejson');
      const counts = Object.fromEntries(report.collections.map((c) => [c.name, c.count]));
      expect(counts).toEqual({ sessions: 1, theaters: 1564, users: 185 });
      expect(report.collections.every((c) => c.rejects === 0)).toBe(true);
    },
  );

  it.skipIf(!accounts)('counts 1746 accounts in a single mongoexport file', async () => {
    const report = await inspect(accounts!);
    expect(report.collections.map((c) => [c.name, c.count])).toEqual([['accounts', 1746]]);
  });

  it('exits 2 naming the path when the source does not exist', async () => {
    const result = await runFerry(['inspect', 'no/such/dump.archive']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      'ferry: source not found: no/such/dump.archive (file no/such/dump.archive) — check the path',
    );
  });
});
