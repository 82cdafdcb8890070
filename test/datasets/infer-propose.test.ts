import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Document } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { collectStats, type InferenceSnapshot } from '../../src/infer/index.js';
import { type Proposal, proposeMapping } from '../../src/infer/propose.js';
import { checkPlanAgainstStats } from '../../src/infer/propose-check.js';
import { renderReport } from '../../src/infer/report-render.js';
import { renderConfig } from '../../src/infer/write-config.js';
import { canonicalEqual } from '../../src/mapping/canonical/index.js';
import { toDoc } from '../../src/mapping/to-doc.js';
import { toRows } from '../../src/mapping/to-rows.js';
import { openSource } from '../../src/sources/open.js';
import type { IndexSpec } from '../../src/sources/types.js';
import { datasetPath } from '../support/services.js';

interface Loaded {
  readonly location: string;
  readonly docs: Map<string, Document[]>;
  readonly snapshot: InferenceSnapshot;
  readonly indexes: Record<string, readonly IndexSpec[]>;
  readonly proposal: Proposal;
}

// Every document is kept: the round trip below runs over all of them, not a sample.
async function load(location: string): Promise<Loaded> {
  const source = await openSource(location);
  const docs = new Map<string, Document[]>();
  let indexes: Record<string, readonly IndexSpec[]>;
  try {
    indexes = Object.fromEntries((await source.listCollections()).map((c) => [c.name, c.indexes]));
    for await (const batch of source.readAll()) {
      const list = docs.get(batch.collection) ?? [];
      list.push(...batch.docs);
      docs.set(batch.collection, list);
    }
  } finally {
    await source.close();
  }
  const again = await openSource(location);
  const stats = await collectStats(again).finally(() => again.close());
  const snapshot = stats.snapshot();
  return { location, docs, snapshot, indexes, proposal: proposeMapping(snapshot, { indexes }) };
}

const files = {
  sales: datasetPath('sample_supplies.archive.gz'),
  theaters: datasetPath('sample_mflix/theaters.json'),
  users: datasetPath('sample_mflix/users.json'),
  accounts: datasetPath('sample_analytics/accounts.json'),
};

describe.runIf(Object.values(files).every(Boolean))(
  'ferry infer proposals on the real sample datasets',
  () => {
    const loaded = new Map<string, Loaded>();
    let dir: string;

    beforeAll(async () => {
      for (const [name, file] of Object.entries(files)) loaded.set(name, await load(file!));
      dir = await mkdtemp(path.join(tmpdir(), 'ferry-infer-'));
    });
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const get = (name: string) => loaded.get(name)!;

    it('proposes sales with flattened customer columns and an items child table with numeric prices and text[] tags', () => {
      const { plan } = get('sales').proposal;
      const [sales, items] = plan.collections[0]!.tables;
      expect(sales?.columns.map((c) => `${c.name} ${c.pgType}${c.nullable ? '' : ' not null'}`)).toEqual([
        'id uuid not null',
        'coupon_used boolean not null',
        'customer_age integer not null',
        'customer_email text not null',
        'customer_gender text not null',
        'customer_satisfaction integer not null',
        'purchase_method text not null',
        'sale_date timestamptz not null',
        'store_location text not null',
      ]);
      expect(items?.name).toBe('sales_items');
      expect(items?.parent).toEqual({
        table: 'sales',
        path: ['items'],
        shape: 'array',
        columns: ['parent_id'],
        ordinal: 'idx',
      });
      expect(items?.columns.map((c) => [c.name, c.pgType, c.sourceType])).toEqual([
        ['name', 'text', 'string'],
        ['price', 'numeric', 'decimal'],
        ['quantity', 'integer', 'int'],
        ['tags', 'text[]', 'string'],
      ]);
    });

    it('flattens the theaters GeoJSON point to a type column and a double precision[] column, and says why', () => {
      const { plan, report } = get('theaters').proposal;
      const columns = plan.collections[0]!.tables[0]!.columns;
      expect(columns.find((c) => c.name === 'location_geo_type')).toMatchObject({
        pgType: 'text',
        nullable: false,
      });
      expect(columns.find((c) => c.name === 'location_geo_coordinates')).toMatchObject({
        path: ['location', 'geo', 'coordinates'],
        pgType: 'double precision[]',
        sourceType: 'double',
      });
      expect(columns.find((c) => c.name === 'location_address_street2')).toMatchObject({
        pgType: 'text',
        nullable: true,
      });
      const geo = report.collections[0]!.decisions.find((d) => d.path === 'location.geo');
      expect(geo?.rule).toBe('geojson');
      expect(geo?.reason).toMatch(/GeoJSON Point.*double precision\[\].*jsonb was not chosen/);
    });

    it('keeps the one empty users.preferences object in _extra and flags it as rare', () => {
      const { plan, report } = get('users').proposal;
      expect(plan.collections[0]!.tables[0]!.columns.map((c) => c.name)).toEqual([
        'id',
        'email',
        'name',
        'password',
      ]);
      expect(report.collections[0]!.decisions.find((d) => d.path === 'preferences')).toMatchObject({
        rule: 'extra',
      });
      expect(report.warnings).toEqual([
        expect.objectContaining({ code: 'RARE_FIELD', collection: 'users', path: 'preferences' }),
      ]);
    });

    it('round-trips every document of all four datasets through toRows and toDoc, with no reject', () => {
      for (const [name, { docs, proposal }] of loaded) {
        let checked = 0;
        for (const [collection, list] of docs) {
          for (const doc of list) {
            const rows = toRows(proposal.plan, collection, doc);
            if (!rows.ok)
              throw new Error(`${name}: ${collection} ${String(doc._id)} rejected: ${rows.reject.reason}`);
            const back = toDoc(proposal.plan, collection, rows.rows);
            if (!canonicalEqual(back, doc))
              throw new Error(`${name}: ${collection} ${String(doc._id)} differs after the round trip`);
            checked++;
          }
        }
        expect({ name, checked }).toEqual({
          name,
          checked: get(name).snapshot.collections.reduce((n, c) => n + c.documents, 0),
        });
      }
    });

    it('leaves _extra empty for every sales document: the columns hold all of it', () => {
      const { docs, proposal } = get('sales');
      const extras = docs
        .get('sales')!
        .flatMap((doc) => {
          const result = toRows(proposal.plan, 'sales', doc);
          return result.ok ? [...result.rows.values()].flat().map((row) => row._extra) : ['rejected'];
        })
        .filter((extra) => extra !== null);
      expect(extras).toEqual([]);
    });

    it('passes its own check against the statistics it came from', () => {
      for (const { proposal, snapshot } of loaded.values())
        expect(checkPlanAgainstStats(proposal.plan, snapshot)).toMatchObject({ ok: true, problems: [] });
    });

    it('writes a config that loads back through loadConfig to the same plan, byte-identical on a second run', async () => {
      for (const [name, { proposal, location, snapshot, indexes }] of loaded) {
        const text = renderConfig(proposal.plan, proposal.report, { source: location });
        const second = proposeMapping(snapshot, { indexes });
        expect(renderConfig(second.plan, second.report, { source: location })).toBe(text);
        const file = path.join(dir, `${name}.config.ts`);
        await writeFile(file, text);
        const config = await loadConfig({ configPath: file, cwd: dir, env: {} });
        expect(config.mapping).toEqual(JSON.parse(JSON.stringify(proposal.plan)));
        expect(config.source).toBe(location);
      }
    });

    it('explains the sales and theaters decisions in a report that stays stable', () => {
      const text = ['sales', 'theaters'].map((name) => renderReport(get(name).proposal.report)).join('\n');
      expect(text).toMatchSnapshot();
      const config = renderConfig(get('sales').proposal.plan, get('sales').proposal.report, {
        source: 'sample_supplies.archive.gz',
      });
      expect(config).toMatchSnapshot();
    });
  },
);
