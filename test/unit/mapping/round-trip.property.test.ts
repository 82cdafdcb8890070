import type { Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { generateNastyDocuments, seedFromEnv } from '../../../src/generate/index.js';
import { canonicalDiff, canonicalEqual } from '../../../src/mapping/canonical/index.js';
import { toDoc } from '../../../src/mapping/to-doc.js';
import { toRows } from '../../../src/mapping/to-rows.js';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { planFromDocs } from './support/plan-from-docs.js';

/**
 * Invariant 1 over generated nasty documents: for every document toRows accepts,
 * toDoc(toRows(d)) equals d canonically; every other document is a reject with a reason.
 * FERRY_SEED picks the stream; FERRY_ROUND_TRIP_COUNT the length (default 100 000).
 */
const SEED = seedFromEnv(20240601);
const COUNT = Number(process.env.FERRY_ROUND_TRIP_COUNT ?? 100_000);
const SAMPLE = 2_000;

/**
 * Rejects the generator can legitimately cause: values PostgreSQL cannot store, and an `_id`
 * of a type the sample never showed (the primary key has no `_extra` to fall back to).
 */
const EXPECTED_REJECTS = new Set([
  'STRING_CONTAINS_NUL',
  'STRING_INVALID_UNICODE',
  'KEY_INVALID',
  'DATE_OUT_OF_RANGE',
  'ID_TYPE_MISMATCH',
]);

describe('toRows/toDoc round trip', () => {
  it(`restores every accepted document exactly (seed ${SEED}, ${COUNT} documents)`, () => {
    const sample = new Map<string, Document[]>();
    for (const { collection, doc } of generateNastyDocuments(SEED, SAMPLE)) {
      const list = sample.get(collection) ?? [];
      list.push(doc);
      sample.set(collection, list);
    }
    const plan = parsePlan(planFromDocs(sample));

    const started = performance.now();
    const rejects = new Map<string, number>();
    const rowsPerTable = new Map<string, number>();
    const failures: { collection: string; index: number; diff: unknown }[] = [];
    const unexpected: { index: number; reject: unknown }[] = [];
    let accepted = 0;
    let withExtra = 0;
    let index = 0;
    for (const { collection, doc } of generateNastyDocuments(SEED, COUNT)) {
      index++;
      const result = toRows(plan, collection, doc);
      if (!result.ok) {
        expect(result.reject.reason.length).toBeGreaterThan(0);
        expect(EXPECTED_REJECTS, `${result.reject.code} at ${result.reject.path}`).toContain(
          result.reject.code,
        );
        rejects.set(result.reject.code, (rejects.get(result.reject.code) ?? 0) + 1);
        continue;
      }
      accepted++;
      let extra = false;
      for (const [table, rows] of result.rows) {
        rowsPerTable.set(table, (rowsPerTable.get(table) ?? 0) + rows.length);
        extra ||= rows.some((r) => r._extra !== null);
      }
      if (extra) withExtra++;
      const back = toDoc(plan, collection, result.rows);
      if (!canonicalEqual(back, doc)) {
        failures.push({ collection, index, diff: canonicalDiff(doc, back, { limit: 3 }) });
        if (failures.length >= 5) break;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    console.info(
      `round trip: seed ${SEED}, ${index} documents, ${accepted} accepted, ${withExtra} using _extra, ` +
        `rejects ${JSON.stringify(Object.fromEntries(rejects))}, ${seconds.toFixed(1)} s; ` +
        `rows ${JSON.stringify(Object.fromEntries(rowsPerTable))}`,
    );
    expect(failures).toEqual([]);
    expect(unexpected.slice(0, 5)).toEqual([]);
    expect(index).toBe(COUNT);
    expect(accepted + [...rejects.values()].reduce((a, b) => a + b, 0)).toBe(COUNT);
    // The plan must actually exercise child tables and _extra, or the test proves little.
    expect([...rowsPerTable.entries()].filter(([, n]) => n > 0).length).toBeGreaterThan(3);
    expect(withExtra).toBeGreaterThan(0);
  });
});
