import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { backfill } from '../../../src/load/backfill.js';
import { objectIdToUuid } from '../../../src/mapping/identity.js';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { openSource } from '../../../src/sources/open.js';
import { samplePredicate } from '../../../src/verify/buckets.js';
import { idHash } from '../../../src/verify/document-id.js';
import { verify } from '../../../src/verify/verify.js';
import { recordCollection, startVerifyRun } from '../../../src/verify/verify-runs.js';
import { runFerry } from '../../support/cli.js';
import { test as base } from '../../support/fixtures.js';
import { postgresUrl } from '../../support/services.js';
import { orderDocuments, ordersPlan, writeConfig, writeOrdersFile } from './support/orders.js';

/**
 * Levels, redaction, the HTML report, resume and rejects, on 3000 orders loaded by the real
 * backfill (src/load) into real PostgreSQL.
 */
const url = postgresUrl();
const plan = parsePlan(ordersPlan);
const docs = orderDocuments(3000);
const victim = docs[17]!;
const victimUuid = objectIdToUuid(victim._id);
const victimHex: string = victim._id.toHexString();

type Run = (
  options: Omit<Parameters<typeof verify>[0], 'source' | 'db' | 'plan'>,
) => ReturnType<typeof verify>;

const test = base.extend<{ file: string; run: Run }>({
  /** The orders as a mongoexport file, with a `ferry.config.ts` beside it. */
  file: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern
    async ({}, use) => {
      const file = await writeOrdersFile(docs);
      await writeConfig(path.dirname(file));
      await use(file);
    },
    { scope: 'file' },
  ],
  /**
   * Verifies against the file, after one backfill into three schemas: `clean`, `cnt` missing
   * one child row of the victim, `smp` with the victim's total changed.
   */
  run: [
    async ({ db, file }, use) => {
      const source = await openSource(file);
      try {
        await backfill({ source, target: db, plan, schemas: ['clean', 'cnt', 'smp'] });
      } finally {
        await source.close();
      }
      await db.query('delete from cnt.orders_items where parent_id = $1 and idx = 2', [victimUuid]);
      await db.query('update smp.orders set total = total + 1 where id = $1', [victimUuid]);
      await use(async (options) => {
        const source = await openSource(file);
        try {
          return await verify({ source, db, plan, ...options });
        } finally {
          await source.close();
        }
      });
    },
    { scope: 'file' },
  ],
});

describe.skipIf(!url)('ferry verify levels and reports', () => {
  test('a document the backfill rejected is reported as rejected and accounted, not as missing', async ({
    run,
  }) => {
    const started = performance.now();
    const result = await run({ schema: 'clean' });
    const seconds = (performance.now() - started) / 1000;
    console.info(
      `deep verify of 3001 documents (3000 + ~10500 child rows): ${seconds.toFixed(2)}s, ${Math.round(3001 / seconds)} docs/s`,
    );
    // Accounted for, but not loaded: the verdict is incomplete, and ok only when accepted.
    expect(result).toMatchObject({ verdict: 'incomplete', rejected: 1, ok: false });
    expect(result.collections[0]).toMatchObject({
      ok: true,
      rejected: 1,
      missing: 0,
      sourceCount: 3001,
      targetCount: 3000,
      matched: 3000,
    });
    expect(result.collections[0]!.buckets).toEqual({ total: 4, mismatched: 0 });
    const accepted = await run({ schema: 'clean', acceptRejects: true });
    expect(accepted).toMatchObject({ verdict: 'incomplete', acceptRejects: true, ok: true });
  });

  test('--level count passes on a clean load and catches a deleted child row by its table count', async ({
    run,
  }) => {
    const clean = await run({ schema: 'clean', level: 'count' });
    expect(clean.verdict).toBe('incomplete');
    const damaged = await run({ schema: 'cnt', level: 'count' });
    expect(damaged.verdict).toBe('mismatch');
    const items = damaged.collections[0]!.tables!.find((t) => t.table === 'orders_items')!;
    expect(items.actual).toBe(items.expected - 1);
    expect(damaged.collections[0]!.countsAgree).toBe(true);
  });

  test('--level count accounts a document PostgreSQL refused by its open reject, not by the child rows it would have had', async ({
    db,
    file,
    run,
  }) => {
    const source = await openSource(file);
    try {
      await backfill({ source, target: db, plan, schemas: ['ldrej'] });
    } finally {
      await source.close();
    }
    // As if PostgreSQL had refused the victim at load: no rows, and an open load reject.
    await db.query('delete from ldrej.orders_items where parent_id = $1', [victimUuid]);
    await db.query('delete from ldrej.orders where id = $1', [victimUuid]);
    await db.query(
      `insert into ferry.rejects (schema, collection, doc_id, raw, raw_encoding, stage, code, reason)
       values ('ldrej', 'orders', $1, '{}', 'ejson', 'load', 'LOAD_CHECK_VIOLATION', 'refused in this test')`,
      [JSON.stringify({ $oid: victimHex })],
    );
    const result = await run({ schema: 'ldrej', level: 'count', record: false });
    expect(result.collections[0]).toMatchObject({ ok: true, rejected: 2, countsAgree: true });
    const items = result.collections[0]!.tables!.find((t) => t.table === 'orders_items')!;
    expect(items.actual).toBe(items.expected);
  });

  test('--level sample compares only the seeded sample, and finds the corruption exactly when it is sampled', async ({
    run,
  }) => {
    const inSample = (seed: number) => samplePredicate(0.1, seed)(idHash(victim._id));
    let hit = 1;
    while (!inSample(hit)) hit++;
    let miss = 1;
    while (inSample(miss)) miss++;
    const found = await run({ schema: 'smp', level: 'sample', fraction: 0.1, seed: hit });
    const passed = await run({ schema: 'smp', level: 'sample', fraction: 0.1, seed: miss });
    expect(found.verdict).toBe('mismatch');
    expect(found.collections[0]!.differences).toEqual([
      { kind: 'content', id: victimHex, fields: [{ path: 'total', kind: 'value' }] },
    ]);
    expect(passed.verdict).toBe('incomplete');
    const compared = passed.collections[0]!.compared;
    expect(compared).toBeGreaterThan(200);
    expect(compared).toBeLessThan(400);
  });

  test('showValues puts both values in a content difference; by default they are left out', async ({
    run,
  }) => {
    const shown = await run({ schema: 'smp', showValues: true });
    const field = shown.collections[0]!.differences[0]!.fields![0]!;
    expect(field.source).toBe(JSON.stringify({ $numberDecimal: String(victim.total) }));
    expect(field.target).toMatch(/^\{"\$numberDecimal":"\d+\.\d+"\}$/);
    expect(field.target).not.toBe(field.source);
    const hidden = await run({ schema: 'smp' });
    expect(hidden.collections[0]!.differences[0]!.fields![0]).toEqual({ path: 'total', kind: 'value' });
  });

  test('the CLI redacts values unless --show-values, and writes a well-formed HTML report naming the _id and path', async ({
    file,
    pgUrl: target,
  }) => {
    const cwd = path.dirname(file);
    const report = path.join(cwd, 'report.html');
    const args = ['verify', file, '--target', target, '--schema', 'smp'];
    const plain = await runFerry([...args, '--report', report], { cwd });
    expect(plain.code).toBe(1);
    expect(plain.stdout).toContain(`content  orders  ${victimHex}  total (value)`);
    expect(plain.stdout).not.toContain(String(victim.total));
    const html = await readFile(report, 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain(`<code>${victimHex}</code>`);
    expect(html).toContain('<code>total</code>');
    expect(html).not.toContain(String(victim.total));
    expect(html).not.toMatch(/<script/i);
    expectBalanced(html);
    const shown = await runFerry([...args, '--show-values'], { cwd });
    expect(shown.code).toBe(1);
    expect(shown.stdout).toContain(String(victim.total));
  });

  test('--resume skips a collection the unfinished run already verified', async ({ run, db }) => {
    const stale = await run({ schema: 'cnt', level: 'count', record: false });
    const started = await startVerifyRun(db, { schema: 'cnt', level: 'count' });
    await recordCollection(db, started.id, { ...stale.collections[0]!, seconds: 12345 });
    const resumed = await run({ schema: 'cnt', level: 'count', resume: true });
    expect(resumed.runId).toBe(started.id);
    expect(resumed.collections[0]!.seconds).toBe(12345);
    const { rows } = await db.query<{ ok: boolean; finished: boolean }>(
      'select ok, finished_at is not null as finished from ferry.verify_runs where id = $1',
      [started.id],
    );
    expect(rows[0]).toEqual({ ok: false, finished: true });
  });

  test('index parity lists every source index: the _id index is the primary key', async ({ run }) => {
    const result = await run({ schema: 'clean', level: 'count' });
    expect(result.indexes.map((i) => i.index).sort()).toEqual(['_id_', 'customer_1']);
    expect(result.indexes.find((i) => i.index === '_id_')!.status).toBe('ok');
  });
});

/** Every opened element (other than void ones) is closed, in order. */
function expectBalanced(html: string): void {
  const stack: string[] = [];
  const voids = new Set(['meta', 'br', 'hr', 'img', 'input', 'link', '!doctype']);
  for (const m of html.matchAll(/<(\/?)([a-zA-Z!][a-zA-Z0-9]*)[^>]*>/g)) {
    const tag = m[2]!.toLowerCase();
    if (voids.has(tag)) continue;
    if (m[1] === '') stack.push(tag);
    else expect(stack.pop()).toBe(tag);
  }
  expect(stack).toEqual([]);
}
