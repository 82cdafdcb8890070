import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { backfill } from '../../../src/load/backfill.js';
import type { RowValues } from '../../../src/mapping/row-values.js';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { writeArchive } from '../../../src/sources/archive/write-archive.js';
import { openSource } from '../../../src/sources/open.js';
import type {
  CopyRows,
  CopyText,
  TableRef,
  TargetDatabase,
  TargetTransaction,
} from '../../../src/target/target-database.js';
import type { VerifyResult } from '../../../src/verify/types.js';
import { runFerry } from '../../support/cli.js';
import { test } from '../../support/fixtures.js';
import { postgresUrl } from '../../support/services.js';
import { orderDocuments, ordersPlan, writeConfig } from './support/orders.js';

/**
 * A load that is wrong because the encoder lost information, not because anyone touched the
 * tables afterwards: every table has exactly the rows it should, so comparing rows (the
 * `count` level: root rows and child-table rows against the source) finds nothing. Only
 * rebuilding each document through `toDoc` and comparing it with the source document, as the
 * deep level does, sees the truncated prices and the reordered tags.
 */
const url = postgresUrl();
const plan = parsePlan(ordersPlan);
const docs = orderDocuments(400).filter((d) => !String(d.customer).includes('\u0000'));

/** A price with its scale cut to one decimal: `12.34` → `12.3` (what a numeric(p,1) encoder would do). */
const truncateScale = (text: string) => text.replace(/^(-?\d+\.\d)\d+$/, '$1');
/** A text array with its elements reversed: the encoder forgot that array order is data. */
const reverseArray = (text: string) => `{${text.slice(1, -1).split(',').reverse().join(',')}}`;

/** The lossy step, by table and column, applied to the COPY text the backfill sends. */
const LOSSES: Record<string, Record<string, (text: string) => string>> = {
  orders_items: { price: truncateScale },
  orders: { tags: reverseArray },
};

function lossyLine(table: string, columns: readonly string[], line: string): string {
  const losses = LOSSES[table];
  if (losses === undefined || line === '') return line;
  const fields = line.split('\t');
  columns.forEach((column, i) => {
    const lose = losses[column];
    if (lose !== undefined && fields[i] !== '\\N') fields[i] = lose(fields[i]!);
  });
  return fields.join('\t');
}

async function* lossyText(table: TableRef, columns: readonly string[], text: CopyText) {
  for await (const piece of text) {
    const lines = (typeof piece === 'string' ? piece : Buffer.from(piece).toString('utf8')).split('\n');
    yield lines.map((line) => lossyLine(table.name, columns, line)).join('\n');
  }
}

async function* lossyRows(table: TableRef, rows: CopyRows) {
  const losses = LOSSES[table.name] ?? {};
  for await (const batch of rows)
    yield batch.map((row) => {
      const out: Record<string, RowValues[string]> = { ...row };
      for (const [column, lose] of Object.entries(losses)) {
        const value = row[column];
        if (typeof value === 'string') out[column] = lose(value);
        if (Array.isArray(value)) out[column] = [...value].reverse();
      }
      return out;
    });
}

function lossyTransaction(tx: TargetTransaction): TargetTransaction {
  return {
    query: (sql, params) => tx.query(sql, params),
    runScript: (sql) => tx.runScript(sql),
    copyFrom: (table, columns, rows, options) => tx.copyFrom(table, columns, lossyRows(table, rows), options),
    copyText: (table, columns, text, options) =>
      // Text only: the capabilities below make the backfill send text.
      tx.copyText(table, columns, lossyText(table, columns, text), options),
  };
}

/**
 * The real target behind a deliberately lossy encoder: the backfill's COPY rows pass through
 * `LOSSES` on their way in (text format, so they can be rewritten), and everything else goes
 * to PostgreSQL untouched.
 */
function behindLossyEncoder(db: TargetDatabase): TargetDatabase {
  return {
    kind: db.kind,
    location: db.location,
    capabilities: { binaryCopy: false },
    query: (sql, params) => db.query(sql, params),
    transaction: (fn) => db.transaction((tx) => fn(lossyTransaction(tx))),
    acquire: () => db.acquire(),
    close: () => db.close(),
  };
}

describe.skipIf(!url)('deep verify catches a load that a lossy encoder got wrong', () => {
  test('the count level finds every row, the deep level names the truncated prices and the reordered tags', async ({
    db,
    pgUrl,
  }) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ferry-lossy-'));
    const archive = path.join(dir, 'shop.archive');
    await writeArchive(archive, 'shop', [{ name: 'orders', docs }]);
    await writeConfig(dir);
    const source = await openSource(archive);
    try {
      const summary = await backfill({ source, target: behindLossyEncoder(db), plan, schemas: ['lossy'] });
      expect(summary.ok).toBe(true);
      expect(summary.rejected).toBe(0);
    } finally {
      await source.close();
    }
    const verifyAt = async (level: string) => {
      const run = await runFerry(
        ['verify', archive, '--target', pgUrl, '--schema', 'lossy', '--level', level, '--json'],
        { cwd: dir },
      );
      return { code: run.code, result: JSON.parse(run.stdout) as VerifyResult };
    };

    const counted = await verifyAt('count');
    expect(counted.code).toBe(0);
    expect(counted.result.collections[0]).toMatchObject({ sourceCount: docs.length, ok: true });

    const deep = await verifyAt('deep');
    expect(deep.code).toBe(1);
    const orders = deep.result.collections[0]!;
    expect(orders).toMatchObject({ collection: 'orders', sourceCount: docs.length, missing: 0, extra: 0 });
    // Every order has items with two-decimal prices, and tags of two different values.
    expect(orders.content).toBe(docs.length);
    const paths = orders.differences.flatMap((d) =>
      d.kind === 'content' ? (d.fields ?? []).map((f) => f.path) : [],
    );
    expect(paths.some((p) => /^items\.\d+\.price$/.test(p))).toBe(true);
    expect(paths.some((p) => p.startsWith('tags'))).toBe(true);
  });
});
