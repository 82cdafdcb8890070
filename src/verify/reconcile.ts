import { Decimal128, type Document, EJSON } from 'bson';
import { numberKey } from '../mapping/canonical/index.js';
import { parseTimestamptz } from '../mapping/pg-text.js';
import type { Queryable } from '../target/target-database.js';
import type { ReconcileCheck } from './reconcile-config.js';
import type { ReconcileResult } from './types.js';

/**
 * Run each check: the aggregation on the live MongoDB source, the query on the target. A
 * source that is not a live server cannot run aggregations, so its checks are `skipped`
 * with that reason, never passed. Mismatch messages give row counts, not values.
 *
 * @example
 * declare const config: ResolvedConfig;
 * declare const db: TargetDatabase;
 * await runReconcileChecks(config.verify?.checks ?? [], 'mongodb://localhost/shop', db);
 * // [{ name: 'payments by status and day', status: 'ok', message: '12 rows agree' }]
 */
export async function runReconcileChecks(
  checks: readonly ReconcileCheck[],
  sourceUri: string | undefined,
  db: Queryable,
): Promise<ReconcileResult[]> {
  if (checks.length === 0) return [];
  if (sourceUri === undefined || !/^mongodb(\+srv)?:\/\//.test(sourceUri))
    return checks.map((c) => ({
      name: c.name,
      status: 'skipped',
      message: 'reconciliation checks need a live MongoDB source (a mongodb:// URI) to run the aggregation',
    }));
  // Loaded only here: the driver costs about a second of start-up that every other verify
  // (and every command that only links this module) would pay for nothing.
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(sourceUri, { serverSelectionTimeoutMS: 10_000 });
  try {
    await client.connect();
    const out: ReconcileResult[] = [];
    for (const check of checks) {
      const pipeline = check.mongo.pipeline.map((stage) => EJSON.deserialize(stage, { relaxed: false }));
      const sourceRows = await client
        .db(check.mongo.database)
        .collection(check.mongo.collection)
        .aggregate(pipeline, { promoteValues: false })
        .toArray();
      const { rows: targetRows } = await db.query<Record<string, unknown>>(check.sql);
      const left = sourceRows.map(rowKey).sort();
      const right = targetRows.map(rowKey).sort();
      const same = left.length === right.length && left.every((k, i) => k === right[i]);
      out.push({
        name: check.name,
        status: same ? 'ok' : 'mismatch',
        message: same
          ? `${left.length} row(s) agree`
          : `${left.filter((k) => !right.includes(k)).length} source row(s) and ${right.filter((k) => !left.includes(k)).length} target row(s) have no equal on the other side`,
        sourceRows: left.length,
        targetRows: right.length,
      });
    }
    return out;
  } finally {
    await client.close();
  }
}

/** One row as a comparable string: sorted keys, numbers by exact value, dates by instant. */
function rowKey(row: Record<string, unknown>): string {
  const keys = Object.keys(row).sort();
  return JSON.stringify(keys.map((k) => [k, valueKey(row[k])]));
}

function valueKey(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return `date:${value.getTime()}`;
  if (typeof value === 'string') {
    // The target prints numeric, bigint, float8 and timestamptz as text (ferryTypes).
    if (/^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value.trim())) return decimalKey(value.trim());
    const ms = /^\d{4}-\d\d-\d\d[ T]\d/.test(value) ? parseTimestamptz(value) : undefined;
    return ms === undefined ? value : `date:${ms}`;
  }
  if (typeof value === 'number') return decimalKey(String(value));
  const tag = (value as { _bsontype?: string })._bsontype;
  // A double is taken at its shortest decimal form, the form PostgreSQL prints a float8 in;
  // its exact binary expansion would never equal the printed text.
  if (tag === 'Double') return decimalKey(String((value as { value: number }).value));
  if (tag === 'Int32' || tag === 'Long' || tag === 'Decimal128') return decimalKey(String(value));
  return JSON.stringify(EJSON.serialize(value as Document, { relaxed: false }));
}

function decimalKey(text: string): string {
  try {
    return `num:${numberKey(Decimal128.fromString(text))}`;
  } catch {
    return `num:${text}`;
  }
}
