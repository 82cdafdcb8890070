import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  emptyHistogram,
  LATENCY_BOUNDS_MS,
  mergeHistograms,
  quantileMs,
  record,
} from '../../../src/runtime/latency-histogram.js';
import { shadowFigures } from '../../../src/runtime/shadow/shadow-figures.js';
import { ensureFerryState, STATE_MIGRATIONS } from '../../../src/target/ferry-state.js';
import { openTarget } from '../../../src/target/open-target.js';
import type { TargetDatabase } from '../../../src/target/target-database.js';
import { createTestDatabase, postgresUrl } from '../../support/services.js';

/**
 * Before state step 20, `ferry.shadow_reads` kept latencies in 17 doubling bounds (0.25 ms to
 * 16384 ms) and an open bucket: 18 counts. The step moves them to the quarter-doubling layout
 * in place, and every percentile must read back as the same figure.
 */
const QUARTER_BUCKETS = STATE_MIGRATIONS.find((m) => m.name === 'quarter-doubling latency buckets')!;
const BEFORE = STATE_MIGRATIONS.filter((m) => m.version < QUARTER_BUCKETS.version);

const OLD_BOUNDS_MS = Array.from({ length: 17 }, (_, i) => 0.25 * 2 ** i);

/** A percentile as Ferry read it before step 20: the upper bound of its doubling bucket. */
function oldQuantileMs(counts: readonly number[], q: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i]!;
    if (seen >= Math.ceil(q * total)) return OLD_BOUNDS_MS[i] ?? Number.POSITIVE_INFINITY;
  }
  return Number.POSITIVE_INFINITY;
}

/** Old-layout histograms: sparse counts, some in the last bound and the open bucket. */
const oldHistograms = fc.sample(
  fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 5000 })), {
    minLength: 18,
    maxLength: 18,
  }),
  { numRuns: 40, seed: 20 },
);
const edgeCases = [
  [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 3],
  [5, ...new Array<number>(17).fill(0)],
];
const QUANTILES = [0.01, 0.5, 0.95, 0.99, 1];

/**
 * A minute of shadow reads added the way Ferry's recorder adds it, by a library that may
 * predate step 20 (an app instance not yet upgraded): arrays summed position by position.
 */
async function addMinute(db: TargetDatabase, collection: string, minute: string, counts: readonly number[]) {
  const sum = (column: string) =>
    `array(select coalesce(a, 0) + coalesce(b, 0)
             from unnest(s.${column}, excluded.${column}) with ordinality as u(a, b, i) order by i)`;
  await db.query(
    `insert into ferry.shadow_reads as s (domain, collection, minute, matched, primary_ms, candidate_ms)
     values ('shop', $1, $2, 1, $3::bigint[], $3::bigint[])
     on conflict (domain, collection, minute) do update
        set matched = s.matched + excluded.matched,
            primary_ms = ${sum('primary_ms')}, candidate_ms = ${sum('candidate_ms')}`,
    [collection, minute, counts],
  );
}

/** Old-layout counts in the new layout: old bound j is new bound 4j, the open bucket stays last. */
function fromDoubling(counts: readonly number[]): number[] {
  const moved = [...emptyHistogram()];
  for (const [j, n] of counts.entries()) moved[j === 17 ? LATENCY_BOUNDS_MS.length : 4 * j]! += n;
  return moved;
}

/** The bucket-wise sum of old-layout histograms. */
function addOld(histograms: readonly (readonly number[])[]): number[] {
  return Array.from({ length: 18 }, (_, i) => histograms.reduce((n, h) => n + h[i]!, 0));
}

async function upgradeAndReadBack(db: TargetDatabase): Promise<void> {
  expect(await ensureFerryState(db, BEFORE)).toHaveLength(BEFORE.length);
  const histograms = [...edgeCases, ...oldHistograms];
  for (const [i, counts] of histograms.entries())
    await db.query(
      `insert into ferry.shadow_reads (domain, collection, minute, matched, primary_ms, candidate_ms)
       values ('shop', $1, now(), 1, $2::bigint[], $3::bigint[])`,
      // Each collection's candidate side is another histogram's primary side, reversed.
      [`c${String(i).padStart(3, '0')}`, counts, [...histograms[histograms.length - 1 - i]!].reverse()],
    );
  // An instance not yet upgraded adds a minute before the upgrade, then (below) one more to the
  // same minute and a new minute after it.
  const [before, sameMinute, nextMinute] = oldHistograms.slice(0, 3) as [number[], number[], number[]];
  await addMinute(db, 'rolling', '2026-12-06T04:00:00Z', before);
  // A row whose histograms were never written keeps its empty default.
  await db.query(
    `insert into ferry.shadow_reads (domain, collection, minute, timed_out) values ('shop', 'never', now(), 2)`,
  );

  expect(await ensureFerryState(db)).toEqual(
    STATE_MIGRATIONS.filter((m) => m.version >= QUARTER_BUCKETS.version).map((m) => m.version),
  );
  expect(await ensureFerryState(db)).toEqual([]);
  // The step itself leaves histograms already in the new layout alone, should it run again.
  await db.query(QUARTER_BUCKETS.sql);

  await addMinute(db, 'rolling', '2026-12-06T04:00:00Z', sameMinute);
  await addMinute(db, 'rolling', '2026-12-06T04:01:00Z', nextMinute);
  // And an upgraded instance adds the new layout, which stays as it is.
  const upgraded = record(record(emptyHistogram(), 2.1), 1e9);
  await addMinute(db, 'rolling', '2026-12-06T04:01:00Z', upgraded);

  const figures = new Map((await shadowFigures(db)).map((f) => [f.collection, f]));
  const rolling = figures.get('rolling')!;
  const rollingOld = addOld([before, sameMinute, nextMinute]);
  for (const side of [rolling.primaryMs, rolling.candidateMs])
    expect(side).toEqual(mergeHistograms([upgraded, fromDoubling(rollingOld)]));
  for (const [i, counts] of histograms.entries()) {
    const f = figures.get(`c${String(i).padStart(3, '0')}`)!;
    const candidate = [...histograms[histograms.length - 1 - i]!].reverse();
    for (const q of QUANTILES) {
      expect(quantileMs(f.primaryMs!, q), `primary of ${i} at q ${q}`).toBe(oldQuantileMs(counts, q));
      expect(quantileMs(f.candidateMs!, q), `candidate of ${i} at q ${q}`).toBe(oldQuantileMs(candidate, q));
    }
  }
  expect(quantileMs(figures.get('never')!.primaryMs!, 0.95)).toBeNull();

  const { rows } = await db.query<{ n: number; empty: number }>(
    `select count(*) filter (where cardinality(primary_ms) = $1 and cardinality(candidate_ms) = $1)::int as n,
            count(*) filter (where primary_ms = '{}' and candidate_ms = '{}')::int as empty
       from ferry.shadow_reads`,
    [LATENCY_BOUNDS_MS.length + 1],
  );
  expect(rows).toEqual([{ n: histograms.length + 2, empty: 1 }]);
}

describe('state step 20: shadow-read histograms move to quarter-doubling buckets', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it.skipIf(!postgresUrl())(
    'rewrites the stored counts of a PostgreSQL state set up at step 19 once, every percentile reads back the same, and counts added by an instance not yet upgraded land under the right bounds',
    async () => {
      const { url, drop } = await createTestDatabase('latency_buckets');
      cleanups.push(drop);
      const db = await openTarget(url);
      cleanups.push(() => db.close());
      await upgradeAndReadBack(db);
    },
    120_000,
  );

  it('rewrites an embedded (PGlite) state the same way', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ferry-latency-buckets-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const db = await openTarget(undefined, { embeddedDir: dir });
    cleanups.push(() => db.close());
    await upgradeAndReadBack(db);
  }, 120_000);
});
