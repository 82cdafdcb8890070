import { calculateObjectSize, type Document } from 'bson';
import { type AnyBulkWriteOperation, MongoBulkWriteError } from 'mongodb';
import { decodeColumn } from '../../mapping/column-codec.js';
import { compiledCollection } from '../../mapping/compile.js';
import type { RowValue } from '../../mapping/row-values.js';
import { isFerretDb } from '../../sources/mongodb/find-by-ids.js';
import type { Queryable } from '../../target/target-database.js';
import { fetchTargetDocuments } from '../../verify/target-reader.js';
import type { RuntimeStores } from '../entity-copy.js';
import { entityTables } from '../entity-rows.js';
import { isTransientError } from '../retry-policy.js';
import { targetOf } from '../stores.js';
import { knownInMongo } from './known-in-mongo.js';
import {
  type ClaimedEvent,
  type EventFailure,
  entityBackoffMs,
  outboxLockKey,
  settleEvents,
} from './outbox-events.js';

/**
 * Delivery of claimed events to MongoDB (DESIGN.md runtime rule 1, in the other direction):
 * each entity's CURRENT state is read from PostgreSQL through `toDoc` and written whole to
 * MongoDB, `replaceOne` with upsert, or `deleteOne` when PostgreSQL no longer has it. No event
 * says what changed; the state is what is delivered, so any number of events of one entity
 * become one write, and a delivery repeated after a crash writes the same document again.
 */

/**
 * How the deliveries of entities fail and back off.
 *
 * @example
 * const policy: DeliveryPolicy = { maxAttempts: 10, backoffBaseMs: 500, backoffMaxMs: 300_000 };
 */
export interface DeliveryPolicy {
  /** Failed deliveries after which an entity's events go dead (dead-letter). */
  readonly maxAttempts: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

/**
 * What one delivery did, in events (rows of `ferry.outbox`) and entities.
 *
 * @example
 * declare const outcome: DeliveryOutcome;
 * console.log(`${outcome.entities} entities delivered for ${outcome.delivered} events; ${outcome.failed} failed`);
 */
export interface DeliveryOutcome {
  /** Events settled as delivered. */
  readonly delivered: number;
  /** Entities written to (or deleted from) MongoDB. */
  readonly entities: number;
  /** Entities whose delivery failed (they back off, or went dead). */
  readonly failed: number;
  /** Events that went dead with this delivery. */
  readonly dead: number;
  /** Events given back untouched: another worker was delivering their entity. */
  readonly released: number;
  /** Per delivered event, ms from capture to delivery. */
  readonly lagsMs: readonly number[];
  /** The failures, for the log: collection, root key, why. */
  readonly failures: readonly {
    readonly collection: string;
    readonly docKey: string;
    readonly error: string;
  }[];
}

/**
 * MongoDB could not be reached or failed transiently for the whole batch: nothing was
 * settled, the events go back to the queue with no attempt counted, and the worker backs off
 * as a whole. An outage of MongoDB thus grows the queue but never dead-letters anything.
 */
export class TransientDeliveryError extends Error {
  constructor(readonly original: unknown) {
    super(
      `MongoDB is not taking writes: ${original instanceof Error ? original.message : String(original)}`,
      {
        cause: original,
      },
    );
    this.name = 'TransientDeliveryError';
  }
}

interface Entity {
  readonly docKey: string;
  readonly lock: string;
  readonly events: readonly ClaimedEvent[];
}

/**
 * Deliver claimed events of one collection in one PostgreSQL transaction:
 *
 * 1. try the entities' advisory locks (`outboxLockKey`, in key order). An entity another
 *    worker is delivering right now is released untouched: its events stay queued, and the
 *    delivery after that worker's reads PostgreSQL after it, so it carries the newer state;
 * 2. read the locked entities' rows, one query per table, and rebuild them through `toDoc`;
 * 3. write them to MongoDB with unordered `bulkWrite`s of `MONGO_WRITES_PER_CALL`; should one be refused as a whole
 *    for a reason that is not transient (a document over 16 MB), each entity is tried alone,
 *    so one poison entity holds up nothing else;
 * 4. settle the events (delivered, failed with backoff or dead, released) and commit, which
 *    releases the locks only after MongoDB acknowledged the writes.
 *
 * A transient failure of MongoDB throws `TransientDeliveryError` (the transaction rolls back,
 * the caller releases the claims).
 *
 * @example
 * declare const stores: RuntimeStores;
 * declare const events: ClaimedEvent[];
 * const outcome = await deliverEvents(stores, 'orders', events, 'host:123', { maxAttempts: 10, backoffBaseMs: 500, backoffMaxMs: 300_000 });
 */
export async function deliverEvents(
  stores: RuntimeStores,
  collection: string,
  events: readonly ClaimedEvent[],
  owner: string,
  policy: DeliveryPolicy,
): Promise<DeliveryOutcome> {
  const entities = groupEntities(stores.schema, collection, events);
  return targetOf(stores.pg).transaction(async (tx) => {
    const { rows: locks } = await tx.query<{ lock: string; locked: boolean }>(
      `select k::text as lock, pg_try_advisory_xact_lock(k) as locked
         from unnest($1::bigint[]) with ordinality as l(k, n) order by n`,
      [entities.map((e) => e.lock)],
    );
    const held = new Set(locks.filter((l) => l.locked).map((l) => l.lock));
    const mine = entities.filter((e) => held.has(e.lock));
    const released = entities.filter((e) => !held.has(e.lock)).flatMap((e) => e.events.map((v) => v.id));
    // Read on the pool, not `tx`: the locks are what order deliveries, and the reads only
    // need to happen while they are held; on the pool the child tables are read in parallel.
    const states = await readStates(targetOf(stores.pg), stores, collection, mine);
    const failures = new Map<Entity, string>();
    for (const [entity, state] of states) if (state.kind === 'damaged') failures.set(entity, state.reason);
    const writable = mine.filter((e) => !failures.has(e));
    for (const [entity, error] of await writeToMongo(stores, collection, writable, states))
      failures.set(entity, error);
    const delivered = writable.filter((e) => !failures.has(e));
    const failed: EventFailure[] = [...failures].map(([entity, error]) => ({
      ids: entity.events.map((e) => e.id),
      error,
      delayMs: entityBackoffMs(Math.max(...entity.events.map((e) => e.attempts)) + 1, {
        baseMs: policy.backoffBaseMs,
        maxMs: policy.backoffMaxMs,
      }),
    }));
    const deliveredIds = delivered.flatMap((e) => e.events.map((v) => v.id));
    const { dead } = await settleEvents(
      tx,
      owner,
      { delivered: deliveredIds, failed, released },
      policy.maxAttempts,
    );
    const now = Date.now();
    return {
      delivered: deliveredIds.length,
      entities: delivered.length,
      failed: failures.size,
      dead,
      released: released.length,
      lagsMs: delivered.flatMap((e) => e.events.map((v) => Math.max(0, now - v.enqueuedAt))),
      failures: [...failures].map(([entity, error]) => ({ collection, docKey: entity.docKey, error })),
    };
  });
}

function groupEntities(schema: string, collection: string, events: readonly ClaimedEvent[]): Entity[] {
  const byKey = new Map<string, ClaimedEvent[]>();
  for (const event of events) {
    const list = byKey.get(event.docKey);
    if (list === undefined) byKey.set(event.docKey, [event]);
    else list.push(event);
  }
  return [...byKey]
    .map(([docKey, list]) => ({ docKey, lock: outboxLockKey(schema, collection, docKey), events: list }))
    .sort((a, b) => (BigInt(a.lock) < BigInt(b.lock) ? -1 : 1));
}

type EntityState =
  | { readonly kind: 'present'; readonly doc: Document }
  | { readonly kind: 'gone'; readonly id: unknown }
  | { readonly kind: 'damaged'; readonly reason: string };

/**
 * The entities' state in PostgreSQL now, read while their locks are held: one query per
 * table (verify's reader, so verify and the outbox rebuild documents alike). An entity without
 * a root row is gone; its `_id` comes from decoding the key with the mapping's id column.
 */
async function readStates(
  db: Queryable,
  stores: RuntimeStores,
  collection: string,
  entities: readonly Entity[],
): Promise<Map<Entity, EntityState>> {
  const out = new Map<Entity, EntityState>();
  if (entities.length === 0) return out;
  const where = { plan: stores.plan, collection, schema: stores.schema };
  const tables = entityTables(stores.plan, collection, stores.schema);
  // The keys as the root key column's type, in Ferry's row representation, by their text.
  const { rows: typed } = await db.query<{ text: string; key: RowValue }>(
    `select k as text, k::${tables.rootIdType} as key from unnest($1::text[]) k`,
    [entities.map((e) => e.docKey)],
  );
  const keyOf = new Map(typed.map((r) => [r.text, r.key]));
  const keys = entities.map((e) => keyOf.get(e.docKey)!);
  const byKey = new Map<string, Awaited<ReturnType<typeof fetchTargetDocuments>>[number]>();
  const unreadable = new Map<string, string>();
  try {
    for (const d of await fetchTargetDocuments(db, where, keys)) byKey.set(keyText(d.key), d);
  } catch (error) {
    if (isTransientError(error)) throw error;
    // Rows toDoc cannot take (array positions out of sequence, a number beyond its BSON type)
    // fail the whole read: find the entities that cause it, one at a time, so one poison
    // entity does not hold up the rest.
    for (const key of keys) {
      try {
        for (const d of await fetchTargetDocuments(db, where, [key])) byKey.set(keyText(d.key), d);
      } catch (single) {
        if (isTransientError(single)) throw single;
        unreadable.set(keyText(key), withoutValues(messageOf(single)));
      }
    }
  }
  const idCodec = compiledCollection(stores.plan, collection).root.id!;
  for (const entity of entities) {
    const key = keyOf.get(entity.docKey)!;
    const document = byKey.get(keyText(key));
    const failure = unreadable.get(keyText(key));
    if (failure !== undefined) {
      out.set(entity, { kind: 'damaged', reason: `its rows cannot be rebuilt into a document: ${failure}` });
    } else if (document === undefined) {
      try {
        out.set(entity, { kind: 'gone', id: decodeColumn(idCodec, key) });
      } catch (error) {
        out.set(entity, { kind: 'damaged', reason: `its key cannot be an _id: ${messageOf(error)}` });
      }
    } else if (document.doc === undefined) {
      out.set(entity, {
        kind: 'damaged',
        reason: `its rows cannot be rebuilt into a document (field ${document.damaged ?? '?'})`,
      });
    } else {
      out.set(entity, { kind: 'present', doc: document.doc });
    }
  }
  return out;
}

/**
 * Write the entities to MongoDB: unordered bulkWrites of `MONGO_WRITES_PER_CALL`; entity by
 * entity only when a call as a whole is refused; on FerretDB the entities not seen in MongoDB
 * yet (`knownInMongo`) by insert first (`insertNew`). Returns the entities that failed, with why.
 */
async function writeToMongo(
  stores: RuntimeStores,
  collection: string,
  given: readonly Entity[],
  states: ReadonlyMap<Entity, EntityState>,
): Promise<Map<Entity, string>> {
  let entities = given;
  const failures = new Map<Entity, string>();
  // A document over MongoDB's limit is refused by the driver while it encodes the batch
  // (with an opaque buffer error): found here first, with a message that says what is wrong.
  for (const entity of entities) {
    const state = states.get(entity)!;
    if (state.kind !== 'present') continue;
    const bytes = calculateObjectSize(state.doc);
    if (bytes > MAX_DOCUMENT_BYTES)
      failures.set(
        entity,
        `the document is ${bytes} bytes once rebuilt, larger than the maximum MongoDB stores (${MAX_DOCUMENT_BYTES})`,
      );
  }
  entities = entities.filter((e) => !failures.has(e));
  if (entities.length === 0) return failures;
  const target = stores.mongo.collection(collection);
  const write: ChunkWrite = async (ops, owners, into) => {
    try {
      await target.bulkWrite(ops, { ordered: false });
    } catch (error) {
      if (isTransientError(error)) throw new TransientDeliveryError(error);
      if (!(error instanceof MongoBulkWriteError) || error.writeErrors === undefined) throw error;
      const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
      if (writeErrors.length === 0) throw error;
      for (const w of writeErrors) into.set(owners[w.index]!, mongoReason(w.code, w.errmsg));
    }
  };
  // Only FerretDB needs to know which entities MongoDB holds (see `insertNew`).
  const known = (await isFerretDb(stores.mongo)) ? knownInMongo(stores.mongo, collection) : undefined;
  if (known !== undefined) {
    const taken = await insertNew(
      entities.filter((e) => !known.has(e.docKey)),
      states,
      write,
      failures,
    );
    entities = [...entities.filter((e) => known.has(e.docKey)), ...taken];
  }
  await writeInChunks(
    entities,
    entities.map((e) => operationFor(states.get(e)!)),
    write,
    failures,
  );
  if (known !== undefined)
    for (const entity of given) {
      if (!failures.has(entity) && states.get(entity)!.kind === 'present') known.add(entity.docKey);
      else known.forget(entity.docKey);
    }
  return failures;
}

/** One unordered bulkWrite; the entities whose operation MongoDB refused go into `into`, with why. */
type ChunkWrite = (
  ops: AnyBulkWriteOperation<Document>[],
  owners: readonly Entity[],
  into: Map<Entity, string>,
) => Promise<void>;

/**
 * `operations` (one per entity) in unordered bulkWrites of `MONGO_WRITES_PER_CALL`; entity by
 * entity only when a call as a whole is refused. `write` records the entities that failed.
 */
async function writeInChunks(
  entities: readonly Entity[],
  operations: readonly AnyBulkWriteOperation<Document>[],
  write: ChunkWrite,
  failures: Map<Entity, string>,
): Promise<void> {
  for (let start = 0; start < entities.length; start += MONGO_WRITES_PER_CALL) {
    const chunk = entities.slice(start, start + MONGO_WRITES_PER_CALL);
    const chunkOperations = operations.slice(start, start + MONGO_WRITES_PER_CALL);
    try {
      await write(chunkOperations, chunk, failures);
    } catch (error) {
      if (error instanceof TransientDeliveryError) throw error;
      // Refused as a whole (the driver refuses a document over the server's limit before
      // sending anything): find the entities that cause it, one at a time.
      for (const [i, entity] of chunk.entries()) {
        try {
          await write([chunkOperations[i]!], [entity], failures);
        } catch (single) {
          if (single instanceof TransientDeliveryError) throw single;
          failures.set(entity, mongoReason((single as { code?: unknown }).code, messageOf(single)));
        }
      }
    }
  }
}

/**
 * On FerretDB, insert the present entities first: an insert finds a taken `_id` through
 * FerretDB's unique index, while a `replaceOne` by `_id` scans the whole collection (FerretDB
 * v1.24 pushes the equality down as a jsonb containment no index serves), so an append-only
 * collection (a ledger) would be delivered at the pace of ever longer scans. An entity MongoDB
 * already holds fails the insert with a duplicate key, and is returned with the deletions to be
 * written as before.
 */
async function insertNew(
  entities: readonly Entity[],
  states: ReadonlyMap<Entity, EntityState>,
  write: ChunkWrite,
  failures: Map<Entity, string>,
): Promise<Entity[]> {
  const present = entities.filter((e) => states.get(e)!.kind === 'present');
  const refused = new Map<Entity, string>();
  await writeInChunks(
    present,
    present.map((e) => ({ insertOne: { document: (states.get(e) as { doc: Document }).doc } })),
    write,
    refused,
  );
  const taken = new Set<Entity>();
  for (const [entity, reason] of refused) {
    if (reason.startsWith(`MongoDB ${DUPLICATE_KEY}:`)) taken.add(entity);
    else failures.set(entity, reason);
  }
  return entities.filter((e) => states.get(e)!.kind !== 'present' || taken.has(e));
}

/** MongoDB's code for a write refused by a unique index (here: an `_id` already taken). */
const DUPLICATE_KEY = 11000;

/**
 * Writes per `bulkWrite` call. FerretDB v1.24 (PostgreSQL backend) holds one connection of its
 * pool (50 by default) for each update statement of a command until the command ends, and
 * each statement takes one more: a bulkWrite of some 50 replaceOnes of existing documents
 * exhausts the pool and hangs FerretDB for every client, for good. 16 per call keeps three
 * workers at once under that pool; a batch still goes out in a few calls, unordered.
 *
 * @example
 * const calls = Math.ceil(500 / MONGO_WRITES_PER_CALL);   // 32 bulkWrites for a batch of 500
 */
export const MONGO_WRITES_PER_CALL = 16;

/** MongoDB's BSON document limit (16 MiB), the same on every server version and FerretDB. */
const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

function operationFor(state: EntityState): AnyBulkWriteOperation<Document> {
  switch (state.kind) {
    case 'present':
      return { replaceOne: { filter: { _id: state.doc._id }, replacement: state.doc, upsert: true } };
    case 'gone':
      return { deleteOne: { filter: { _id: state.id as Document['_id'] } } };
    case 'damaged':
      throw new Error('a damaged entity is never written');
  }
}

/**
 * Why MongoDB refused a write, without the document's values: a duplicate-key message quotes
 * the key, so everything from "dup key" on is cut.
 */
function mongoReason(code: unknown, message: string | undefined): string {
  const text = (message ?? 'refused').replace(/\s*dup key:.*$/s, ' (dup key)').slice(0, 500);
  return code === undefined ? text : `MongoDB ${String(code)}: ${text}`;
}

/** A message with its quoted parts (where decoders quote the values they refuse) cut out. */
function withoutValues(message: string): string {
  return message.replace(/"[^"]*"/g, '"…"').slice(0, 500);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function keyText(value: RowValue): string {
  return Buffer.isBuffer(value) ? value.toString('hex') : String(value);
}
