import { FerryError } from '../core/errors.js';
import { idText } from '../load/reject-record.js';
import { canonicalHash } from '../mapping/canonical/index.js';
import { type CollectionPlan, quoteIdent } from '../mapping/model.js';
import { versionColumn } from '../mapping/validate-plan.js';
import type { Queryable } from '../target/target-database.js';
import { fetchTargetDocumentsById } from '../verify/target-reader.js';
import type { BatchFailure, Entity, RuntimeStores } from './entity-copy.js';
import type { EntityTables } from './entity-rows.js';

/**
 * What the mapping's per-collection promises ask of the copier before it writes, checked
 * inside its transaction, under the entities' locks:
 * - `version` (optimistic locking): a copy never replaces a stored entity whose version is
 *   newer than the one it carries (`ENTITY_VERSION_CONFLICT`);
 * - `appendOnly`: a stored entity is never changed or deleted (`ENTITY_APPEND_ONLY`); a copy
 *   of the state it already has is a no-op, so reconcile and sync converge on a ledger too.
 * Entities that break a promise are left out of the write and reported as failures, so the
 * rest of the batch is copied and the caller (a gap, reconcile, sync) sees which and why.
 */

/** The entities the copier may write, the ones refused, and how many were already in step. */
export interface GuardedEntities {
  readonly allowed: readonly Entity[];
  readonly refused: readonly BatchFailure[];
  /** Append-only entities PostgreSQL already holds exactly: nothing to write. */
  readonly unchanged: number;
}

/**
 * Apply the collection's `version` and `appendOnly` promises to a batch the copier decided on.
 * Costs one query (two for an append-only collection with stored entities) and only for a
 * collection that has one of the options.
 *
 * @example
 * declare const tx: TargetTransaction;
 * declare const stores: RuntimeStores;
 * declare const entities: readonly Entity[];
 * const plan = stores.plan.collections.find((c) => c.name === 'ledger')!;
 * const { allowed, refused } = await guardEntities(tx, stores, plan, entityTables(stores.plan, 'ledger', 'public'), entities);
 */
export async function guardEntities(
  tx: Queryable,
  stores: RuntimeStores,
  collection: CollectionPlan,
  tables: EntityTables,
  entities: readonly Entity[],
): Promise<GuardedEntities> {
  const version = versionColumn(collection);
  const appendOnly = collection.appendOnly === true;
  const keyed = entities.filter((e) => e.key !== undefined);
  if ((version === undefined && !appendOnly) || keyed.length === 0)
    return { allowed: entities, refused: [], unchanged: 0 };

  const stored = await storedEntities(tx, tables, keyed, version);
  const refused: BatchFailure[] = [];
  const refuse = (entity: Entity, code: 'ENTITY_VERSION_CONFLICT' | 'ENTITY_APPEND_ONLY', message: string) =>
    refused.push({
      id: entity.id,
      error: new FerryError(message, {
        code,
        category: 'problem',
        where: { collection: collection.name, id: idText(entity.id) ?? '?' },
        hint:
          code === 'ENTITY_VERSION_CONFLICT'
            ? 'PostgreSQL holds a newer state than the primary: find the writer that bypassed the primary before copying again'
            : 'an append-only entity never changes: find out why the stores disagree (`ferry verify`) and add a correcting entry',
      }),
    });
  let candidates = entities;
  if (version !== undefined) {
    candidates = candidates.filter((entity) => {
      if (entity.kind !== 'write' || stored.get(String(entity.key)) !== 'stale') return true;
      refuse(
        entity,
        'ENTITY_VERSION_CONFLICT',
        `the copy of an entity of ${collection.name} carries an older version (field ${collection.version}) than PostgreSQL holds; it is refused`,
      );
      return false;
    });
  }
  let unchanged = 0;
  if (appendOnly) {
    const existing = candidates.filter((e) => e.key !== undefined && stored.has(String(e.key)));
    const writes = existing.filter((e): e is Extract<Entity, { kind: 'write' }> => e.kind === 'write');
    const docs =
      writes.length === 0
        ? []
        : await fetchTargetDocumentsById(
            tx,
            { plan: stores.plan, collection: collection.name, schema: stores.schema },
            writes.map((e) => e.id),
          );
    const storedHashes = new Set(docs.flatMap((d) => (d.doc === undefined ? [] : [canonicalHash(d.doc)])));
    const same = new Set<Entity>(writes.filter((e) => storedHashes.has(canonicalHash(e.doc))));
    unchanged = same.size;
    const blocked = new Set(existing.filter((e) => !same.has(e)));
    for (const entity of blocked)
      refuse(
        entity,
        'ENTITY_APPEND_ONLY',
        entity.kind === 'write'
          ? `collection ${collection.name} is append-only and PostgreSQL holds another state of this entity; the copy would change it and is refused`
          : `collection ${collection.name} is append-only; the entity is gone from the primary (or rejected) but its rows cannot be deleted`,
      );
    candidates = candidates.filter((e) => !blocked.has(e) && !same.has(e));
  }
  return { allowed: candidates, refused, unchanged };
}

/**
 * The batch's entities that PostgreSQL has, by root key as text, each `'stale'` when the
 * copy's version is older than the stored one, else `'stored'`. The rows are locked `for
 * update`, so a writer outside Ferry's entity locks cannot change them before the copy does.
 */
async function storedEntities(
  tx: Queryable,
  tables: EntityTables,
  entities: readonly Entity[],
  version: ReturnType<typeof versionColumn>,
): Promise<Map<string, 'stale' | 'stored'>> {
  const rootKey = quoteIdent(tables.root.key[0]!);
  const keys = entities.map((e) => e.key);
  const incoming = entities.map((e) => {
    if (version === undefined || e.kind !== 'write') return null;
    const value = e.rows.get(tables.root.name)?.[0]?.[version.name];
    return value === undefined || value === null ? null : String(value);
  });
  const stale =
    version === undefined
      ? 'false'
      : `r.${quoteIdent(version.name)} > w.version::${version.pgType.replace(/\(.*\)$/, '')}`;
  const { rows } = await tx.query<{ key: unknown; stale: boolean | null }>(
    `select r.${rootKey} as key, ${stale} as stale
       from ${tables.root.qualified} r
       join unnest($1::${tables.rootIdType}[], $2::text[]) as w(key, version) on r.${rootKey} = w.key
        for update of r`,
    [keys, incoming],
  );
  return new Map(rows.map((r) => [String(r.key), r.stale === true ? 'stale' : 'stored']));
}
