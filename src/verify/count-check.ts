import { type Plan, quoteIdent } from '../mapping/model.js';
import { toRows } from '../mapping/to-rows.js';
import type { Source } from '../sources/types.js';
import type { Queryable } from '../target/target-database.js';
import { idHash } from './document-id.js';
import { loadRejectedIds } from './rejected-ids.js';
import type { CollectionVerifyResult, TableCount } from './types.js';

/** What the count check needs. */
export interface CountCheckInput {
  readonly source: Source;
  readonly db: Queryable;
  readonly plan: Plan;
  readonly collection: string;
  readonly schema: string;
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (documents: number) => void;
}

/**
 * `--level count`: the source's document count against root rows plus open rejects, and
 * each child table's row count against what the source's arrays and maps should produce.
 * The expected child counts come from `toRows` itself, so empty arrays (kept in `_extra`),
 * nested arrays and maps count exactly as the loader wrote them, with no second reading of
 * the mapping. Cheap on the target (one `count(*)` per table); it reads the source once.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * declare const source: Source;
 * const result = await countCheck({ source, db, plan, collection: 'orders', schema: 'public' });
 * result.tables   // [{ table: 'orders_items', expected: 12000, actual: 11999 }]
 */
export async function countCheck(input: CountCheckInput): Promise<CollectionVerifyResult> {
  const started = performance.now();
  const collection = input.plan.collections.find((c) => c.name === input.collection)!;
  const rejected = await loadRejectedIds(input.db, input.schema, input.collection);
  const expected = new Map(collection.tables.map((t) => [t.name, 0]));
  let sourceCount = 0;
  for await (const batch of input.source.read(input.collection, {
    ...(input.batchSize !== undefined && { batchSize: input.batchSize }),
    ...(input.signal !== undefined && { signal: input.signal }),
  })) {
    sourceCount += batch.docs.length + batch.rejects.length;
    for (const doc of batch.docs) {
      if (rejected.has(idHash(doc._id))) continue;
      const result = toRows(input.plan, input.collection, doc);
      if (!result.ok) continue;
      for (const [table, rows] of result.rows) expected.set(table, (expected.get(table) ?? 0) + rows.length);
    }
    input.onProgress?.(sourceCount);
  }
  const tables: TableCount[] = [];
  for (const table of collection.tables) {
    const { rows } = await input.db.query<{ n: string | number }>(
      `select count(*) as n from ${quoteIdent(input.schema)}.${quoteIdent(table.name)}`,
    );
    tables.push({ table: table.name, expected: expected.get(table.name) ?? 0, actual: Number(rows[0]!.n) });
  }
  const targetCount = tables[0]!.actual;
  const countsAgree = sourceCount === targetCount + rejected.count;
  const childrenAgree = tables.slice(1).every((t) => t.expected === t.actual);
  return {
    collection: input.collection,
    level: 'count',
    sourceCount,
    targetCount,
    rejected: rejected.count,
    compared: 0,
    matched: 0,
    missing: Math.max(0, sourceCount - targetCount - rejected.count),
    extra: Math.max(0, targetCount + rejected.count - sourceCount),
    content: 0,
    countsAgree,
    tables: tables.slice(1),
    differences: [],
    truncated: false,
    ok: countsAgree && childrenAgree,
    seconds: (performance.now() - started) / 1000,
  };
}
