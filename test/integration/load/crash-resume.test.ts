import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { beforeAll, describe, expect } from 'vitest';
import { Random } from '../../../src/generate/random.js';
import { seedFromEnv } from '../../../src/generate/seed.js';
import { runFerry, spawnFerry } from '../../support/cli.js';
import { test } from '../../support/fixtures.js';
import { postgresUrl } from '../../support/services.js';
import { customers, dumpSchema, orders, planInput, sql, writeSource } from './support.js';

/**
 * DESIGN.md invariant 3 through the real CLI: `ferry backfill` is killed with SIGKILL at
 * 13 moments, then resumed, and the tables end identical (canonical dump of every table)
 * to an uninterrupted run into another database, with each reject recorded once. The kill
 * moments are chosen by watching the target, so each kind is really hit:
 * - `mid-copy`: while a COPY is active on the server (a 3000-document chunk, so it lasts);
 * - `after-commit`: right after a checkpoint moved, i.e. between chunks;
 * - `random`: a seeded random delay after the run started (DDL, reads, transforms, commits).
 */
const available = postgresUrl() !== undefined;
const seed = seedFromEnv(20261122);
type Strategy = 'mid-copy' | 'after-commit' | 'random';
const STRATEGIES: readonly Strategy[] = [
  'random',
  'mid-copy',
  'after-commit',
  'mid-copy',
  'random',
  'after-commit',
  'mid-copy',
  'random',
  'after-commit',
  'mid-copy',
  'random',
  'after-commit',
  'mid-copy',
];

describe.skipIf(!available)('backfill through kill -9', () => {
  let cwd: string;

  beforeAll(async () => {
    const docs = orders(8000).map((d, i) => (i % 997 === 5 ? { ...d, note: 'nul\u0000here' } : d));
    const source = await writeSource({ customers: customers(10), orders: docs });
    cwd = source;
    await writeFile(
      path.join(cwd, 'ferry.config.ts'),
      `export default ${JSON.stringify({ source, mapping: planInput })};\n`,
    );
  });

  test(`gives the same tables after SIGKILLs at ${STRATEGIES.length} moments and a resume as an uninterrupted run (seed ${seed})`, async ({
    pgUrl: reference,
    ownPgUrl: crashed,
  }) => {
    // Two databases: one for the uninterrupted run, one that is killed and resumed.
    const uninterrupted = await runFerry(
      ['backfill', '--target', reference, '--batch-size', '100', '--max-rejects', '100', '--json'],
      {
        cwd,
      },
    );
    expect(uninterrupted.code, uninterrupted.stderr).toBe(0);

    const random = new Random(seed);
    const monitor = new pg.Client({ connectionString: crashed });
    await monitor.connect();
    const kills: { strategy: Strategy; killed: boolean; observed: boolean }[] = [];
    try {
      for (const strategy of STRATEGIES) {
        const batch = strategy === 'mid-copy' ? '3000' : '100';
        const baseline = await progressOf(monitor);
        const child = spawnFerry(
          ['backfill', '--target', crashed, '--batch-size', batch, '--max-rejects', '100', '--json'],
          cwd,
        );
        const exited = new Promise<string | null>((resolve) =>
          child.on('exit', (_code, signal) => resolve(signal)),
        );
        let running = true;
        void exited.then(() => {
          running = false;
        });
        const observed = await waitFor(monitor, strategy, baseline, random, () => running);
        child.kill('SIGKILL');
        const signal = await exited;
        kills.push({ strategy, killed: signal === 'SIGKILL', observed });
      }
    } finally {
      await monitor.end();
    }
    const resumed = await runFerry(['backfill', '--target', crashed, '--max-rejects', '100', '--json'], {
      cwd,
    });
    expect(resumed.code, resumed.stderr).toBe(0);

    const delivered = kills.filter((k) => k.killed);
    console.log(`kill points (seed ${seed}): ${JSON.stringify(kills)}`);
    expect(delivered.length).toBeGreaterThanOrEqual(10);
    expect(delivered.filter((k) => k.strategy === 'mid-copy' && k.observed).length).toBeGreaterThanOrEqual(3);
    expect(
      delivered.filter((k) => k.strategy === 'after-commit' && k.observed).length,
    ).toBeGreaterThanOrEqual(3);

    const expected = await dumpSchema(reference, 'public');
    expect(expected.orders?.rows).toBe(8000 - 9);
    expect(await dumpSchema(crashed, 'public')).toEqual(expected);
    const rejects = `select collection, doc_id, stage, code from ferry.rejects order by 1, 2, 3`;
    expect(await sql(crashed, rejects)).toEqual(await sql(reference, rejects));
    const checkpoints =
      'select schema, collection, read, migrated, rejected, complete from ferry.checkpoints order by 1, 2';
    expect(await sql(crashed, checkpoints)).toEqual([
      {
        schema: 'public',
        collection: 'customers',
        read: '10',
        migrated: '10',
        rejected: '0',
        complete: true,
      },
      {
        schema: 'public',
        collection: 'orders',
        read: '8000',
        migrated: '7991',
        rejected: '9',
        complete: true,
      },
    ]);
  }, 600_000);
});

/** Documents read so far and the newest run, or zeros before the state schema exists. */
async function progressOf(monitor: pg.Client): Promise<{ read: number; run: number }> {
  try {
    const { rows } = await monitor.query<{ read: string; run: string }>(
      'select (select coalesce(sum(read), 0) from ferry.checkpoints) as read, (select coalesce(max(id), 0) from ferry.runs) as run',
    );
    return { read: Number(rows[0]?.read), run: Number(rows[0]?.run) };
  } catch {
    return { read: 0, run: 0 };
  }
}

/** Wait for the moment `strategy` kills at; false when the child ended (or time ran out) first. */
async function waitFor(
  monitor: pg.Client,
  strategy: Strategy,
  baseline: { read: number; run: number },
  random: Random,
  running: () => boolean,
): Promise<boolean> {
  const deadline = Date.now() + 120_000;
  while (running() && Date.now() < deadline) {
    if (strategy === 'mid-copy') {
      const { rows } = await monitor.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and state = 'active' and query ilike 'copy %'`,
      );
      if ((rows[0]?.n ?? 0) > 0) return true;
      continue;
    }
    const now = await progressOf(monitor);
    if (strategy === 'after-commit' && now.read > baseline.read) return true;
    if (strategy === 'random' && now.run > baseline.run) {
      await sleep(random.int(0, 400));
      return true;
    }
    await sleep(5);
  }
  return false;
}
