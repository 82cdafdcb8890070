import { prepareChunks } from '../load/chunk.js';
import { EncodeWorkers } from '../load/encode-workers.js';
import { type Plan, quoteIdent } from '../mapping/model.js';
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
  /** Threads that encode the source's BSON, shared by the run's collections; else the check starts its own. */
  readonly encoders?: EncodeWorkers;
}

/**
 * `--level count`: the source's document count against root rows plus open rejects, and
 * each child table's row count against what the source's arrays and maps should produce.
 * The expected child counts come from the loader's own encoder (`prepareChunks`, byte for byte
 * `toRows` and the COPY encoding), so empty arrays (kept in `_extra`), nested arrays and maps
 * count exactly as the loader wrote them, with no second reading of the mapping; a dump's or an
 * archive's BSON is encoded on worker threads without being decoded, as the backfill does.
 * Cheap on the target (one `count(*)` per table); it reads the source once.
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
  const expected = collection.tables.map(() => 0);
  let sourceCount = 0;
  const encoders = input.encoders ?? new EncodeWorkers(input.plan);
  try {
    const batches = input.source.read(input.collection, {
      ...(input.batchSize !== undefined && { batchSize: input.batchSize }),
      ...(input.signal !== undefined && { signal: input.signal }),
      raw: true,
    });
    // Documents the encoder refuses are not in `docs`: like a document `toRows` refuses, they
    // are counted as read and expect no rows. Binary rows: the encoder's fastest path, and the
    // rows are only counted, never sent, so the target's column types do not matter.
    const chunks = prepareChunks(input.plan, batches, { workers: encoders, binary: true });
    for await (const { read, docs } of chunks) {
      sourceCount += read;
      for (const [t, sum] of expected.entries()) expected[t] = sum + docs.rows(t, 0, docs.count);
      // A document with an open reject is accounted for by the reject, not by its rows.
      if (rejected.count > 0)
        for (let i = 0; i < docs.count; i++)
          if (rejected.has(idHash(docs.document(i)._id)))
            for (const [t, sum] of expected.entries()) expected[t] = sum - docs.rows(t, i, i + 1);
      input.onProgress?.(sourceCount);
    }
  } finally {
    if (input.encoders === undefined) await encoders.close();
  }
  const tables: TableCount[] = [];
  for (const table of collection.tables) {
    const { rows } = await input.db.query<{ n: string | number }>(
      `select count(*) as n from ${quoteIdent(input.schema)}.${quoteIdent(table.name)}`,
    );
    tables.push({ table: table.name, expected: expected[tables.length]!, actual: Number(rows[0]!.n) });
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
