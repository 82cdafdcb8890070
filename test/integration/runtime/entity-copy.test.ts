import { type Document, Long, ObjectId } from 'bson';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectIdToUuid } from '../../../src/mapping/identity.js';
import { toRows } from '../../../src/mapping/to-rows.js';
import {
  copyEntitiesToPostgres,
  type Entity,
  EntityCopyError,
  entityLockKey,
  type RuntimeStores,
} from '../../../src/runtime/entity-copy.js';
import { entityTables, writeEntityRows, writeEntityRowsAndCommit } from '../../../src/runtime/entity-rows.js';
import { lockedTransaction } from '../../../src/runtime/stores.js';
import { errorCode } from '../../../src/target/retry.js';
import { createRuntimeWorld, differences, type RuntimeWorld, servicesReady, verifyWorld } from './support.js';

describe.skipIf(!servicesReady)('the entity copier brings PostgreSQL to MongoDB’s current state', () => {
  let world: RuntimeWorld;
  let stores: RuntimeStores;

  beforeAll(async () => {
    world = await createRuntimeWorld('copy', 200);
    stores = { mongo: world.mongo, pg: world.pool, plan: world.plan, schema: world.schema };
  }, 600_000);

  afterAll(async () => {
    await world?.close();
  });

  it('copies updates, array growth, replaces, new documents and deletes, and verify is clean', async () => {
    const requests = world.mongo.collection<Document>('purchaseRequests');
    const chats = world.mongo.collection<Document>('chats');
    const users = world.mongo.collection<Document>('users');
    const [r1, r2] = world.ids.get('purchaseRequests')! as ObjectId[];
    const [c1] = world.ids.get('chats')! as ObjectId[];
    await requests.updateOne({ _id: r1 }, { $set: { title: 'changed' }, $inc: { __v: 1 } });
    await requests.updateOne({ _id: r2 }, { $unset: { items: '' } });
    const chat = await chats.findOne({ _id: c1 }, { promoteValues: false });
    await chats.replaceOne({ _id: c1 }, { ...chat, messages: [...(chat!.messages as Document[]).slice(1)] });
    const created = new ObjectId();
    const shortLived = new ObjectId();
    await users.insertMany([
      {
        ...(await users.findOne({}, { promoteValues: false })),
        _id: created,
        email: 'new@example.com',
        balance: Long.fromNumber(1200),
      },
      { ...(await users.findOne({}, { promoteValues: false })), _id: shortLived, email: 'gone@example.com' },
    ]);
    await copyEntitiesToPostgres(stores, 'users', [shortLived]);
    await users.deleteOne({ _id: shortLived });

    expect(await copyEntitiesToPostgres(stores, 'purchaseRequests', [r1, r2, r1])).toEqual({
      upserted: 2,
      deleted: 0,
      rejected: 0,
    });
    expect(await copyEntitiesToPostgres(stores, 'chats', [c1])).toEqual({
      upserted: 1,
      deleted: 0,
      rejected: 0,
    });
    expect(await copyEntitiesToPostgres(stores, 'users', [created, shortLived])).toEqual({
      upserted: 1,
      deleted: 1,
      rejected: 0,
    });
    const result = await verifyWorld(world, ['purchaseRequests', 'chats', 'users']);
    expect(differences(result)).toEqual([]);
    expect(result.ok).toBe(true);
  }, 300_000);

  it('a delete that a foreign key from another collection refuses fails that entity only, naming the constraint', async () => {
    const users = world.mongo.collection<Document>('users');
    const [referenced] = world.ids.get('users')! as ObjectId[];
    const fresh = new ObjectId();
    await users.insertOne({
      ...(await users.findOne({}, { promoteValues: false })),
      _id: fresh,
      email: 'fresh@example.com',
    });
    await users.deleteOne({ _id: referenced });
    const failure = await copyEntitiesToPostgres(stores, 'users', [referenced, fresh]).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(EntityCopyError);
    const error = failure as EntityCopyError;
    expect(error.code).toBe('ENTITY_COPY_FAILED');
    expect(error.failures.map((f) => String(f.id))).toEqual([String(referenced)]);
    expect(error.message).toMatch(/foreign key constraint .* \[23503\]/);
    expect(error.outcome).toEqual({ upserted: 1, deleted: 0, rejected: 0 });
    const { rows } = await world.pool.query('select count(*)::int as n from public.users where id = $1', [
      objectIdToUuid(fresh),
    ]);
    expect(rows[0].n).toBe(1);
  }, 300_000);

  it('a document whose rows PostgreSQL refuses is a load reject, and the rest of its batch is copied', async () => {
    const users = world.mongo.collection<Document>('users');
    const template = await users.findOne({}, { promoteValues: false });
    const refused = new ObjectId();
    const fine = new ObjectId();
    // A constraint PostgreSQL has and MongoDB does not (added by hand after the migration).
    await world.pool.query(
      `alter table public.users add constraint no_refused check (email <> 'refused@example.com')`,
    );
    await users.insertMany([
      { ...template, _id: refused, email: 'refused@example.com' },
      { ...template, _id: fine, email: 'fine@example.com' },
    ]);
    expect(await copyEntitiesToPostgres(stores, 'users', [refused, fine])).toEqual({
      upserted: 1,
      deleted: 0,
      rejected: 1,
    });
    const { rows } = await world.pool.query(
      `select doc_id, stage, code from ferry.rejects where collection = 'users' and resolved_at is null`,
    );
    expect(rows).toEqual([
      {
        doc_id: JSON.stringify({ $oid: refused.toHexString() }),
        stage: 'load',
        code: 'LOAD_CONSTRAINT_VIOLATION',
      },
    ]);
    await users.deleteOne({ _id: refused });
    await copyEntitiesToPostgres(stores, 'users', [refused]);
  }, 300_000);

  it('copying the same entities twice writes the same rows', async () => {
    const ids = world.ids.get('chats')!.slice(0, 20);
    await copyEntitiesToPostgres(stores, 'chats', ids);
    const before = await world.pool.query('select count(*)::int as n from public.chats_messages');
    await copyEntitiesToPostgres(stores, 'chats', ids);
    const after = await world.pool.query('select count(*)::int as n from public.chats_messages');
    expect(after.rows[0].n).toBe(before.rows[0].n);
    const result = await verifyWorld(world, ['chats']);
    expect(differences(result)).toEqual([]);
  }, 300_000);

  it('an id no longer in MongoDB is deleted from PostgreSQL, children included', async () => {
    const [, , c3] = world.ids.get('chats')! as ObjectId[];
    await world.mongo.collection('chats').deleteOne({ _id: c3 });
    expect(await copyEntitiesToPostgres(stores, 'chats', [c3])).toEqual({
      upserted: 0,
      deleted: 1,
      rejected: 0,
    });
    const { rows } = await world.pool.query(
      `select (select count(*) from public.chats where id = $1)::int as roots,
              (select count(*) from public.chats_messages where parent_id = $1)::int as children`,
      [objectIdToUuid(c3!)],
    );
    expect(rows[0]).toEqual({ roots: 0, children: 0 });
    expect(differences(await verifyWorld(world, ['chats']))).toEqual([]);
  }, 300_000);

  it('a document the mapping rejects goes to ferry.rejects, and a later good state resolves it', async () => {
    const chats = world.mongo.collection<Document>('chats');
    // A string _id where the mapping says ObjectId: no row can hold it.
    await chats.insertOne({ _id: 'not-an-object-id' as never, messages: [] });
    expect(await copyEntitiesToPostgres(stores, 'chats', ['not-an-object-id'])).toEqual({
      upserted: 0,
      deleted: 0,
      rejected: 1,
    });
    const open = await world.pool.query(
      `select doc_id, stage, code from ferry.rejects where collection = 'chats' and resolved_at is null`,
    );
    expect(open.rows).toEqual([
      { doc_id: '"not-an-object-id"', stage: 'transform', code: 'ID_TYPE_MISMATCH' },
    ]);
    // Verify counts it as rejected and accounted for.
    expect(differences(await verifyWorld(world, ['chats']))).toEqual([]);
    await chats.deleteOne({ _id: 'not-an-object-id' as never });
    await copyEntitiesToPostgres(stores, 'chats', ['not-an-object-id']);
    const after = await world.pool.query(
      `select count(*)::int as n from ferry.rejects where collection = 'chats' and resolved_at is null`,
    );
    expect(after.rows[0].n).toBe(0);
  }, 300_000);

  it('a copy takes two round trips to PostgreSQL: BEGIN with the lock, then its rows with the COMMIT', async () => {
    const pool = new pg.Pool({ connectionString: world.targetUrl, max: 1 });
    const sent: string[] = [];
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
        const first = args[0] as string | { text: string };
        sent.push(typeof first === 'string' ? first : first.text);
        return query(...args);
      };
    });
    try {
      const [r1] = world.ids.get('purchaseRequests')! as ObjectId[];
      await world.mongo.collection('purchaseRequests').updateOne({ _id: r1 }, { $inc: { __v: 1 } });
      const counted = { ...stores, pg: pool };
      expect(await copyEntitiesToPostgres(counted, 'purchaseRequests', [r1])).toEqual({
        upserted: 1,
        deleted: 0,
        rejected: 0,
      });
      expect(sent).toHaveLength(2);
      expect(sent[0]).toMatch(/^begin; select pg_advisory_xact_lock/);
      expect(sent[1]).toMatch(/;\ncommit$/);
      expect(differences(await verifyWorld(world, ['purchaseRequests']))).toEqual([]);
    } finally {
      await pool.end();
    }
  }, 300_000);

  it('values written into the statement as literals (quotes, backslashes, array syntax, SQL) copy exactly', async () => {
    const requests = world.mongo.collection<Document>('purchaseRequests');
    const [, , , r4] = world.ids.get('purchaseRequests')! as ObjectId[];
    const tricky = `it's a \\ "quoted" {brace}, 'x' \\x00 E'\\n' ; commit; drop table users; -- é 😀`;
    const request = await requests.findOne({ _id: r4 }, { promoteValues: false });
    const items = (request!.items as Document[] | undefined) ?? [];
    await requests.updateOne(
      { _id: r4 },
      {
        $set: {
          title: tricky,
          items: items.map((item) => ({
            ...item,
            title: tricky,
            tags: [tricky, 'NULL', '', 'a,b', '{}', '"'],
          })),
        },
      },
    );
    expect(await copyEntitiesToPostgres(stores, 'purchaseRequests', [r4])).toEqual({
      upserted: 1,
      deleted: 0,
      rejected: 0,
    });
    const { rows } = await world.pool.query('select title from public.purchase_requests where id = $1', [
      objectIdToUuid(r4!),
    ]);
    expect(rows[0].title).toBe(tricky);
    expect(differences(await verifyWorld(world, ['purchaseRequests']))).toEqual([]);
  }, 300_000);

  it('a row value no literal can carry (a NUL, which the mapping itself rejects) is left to the parameterised statements', async () => {
    const [r6] = (world.ids.get('purchaseRequests')! as ObjectId[]).slice(5);
    const doc = await world.mongo
      .collection('purchaseRequests')
      .findOne({ _id: r6 }, { promoteValues: false });
    const mapped = toRows(world.plan, 'purchaseRequests', doc!);
    if (!mapped.ok) throw new Error('the mapping refused the document');
    const tables = entityTables(world.plan, 'purchaseRequests', world.schema);
    // Only a row built by hand can hold a NUL: toRows rejects such a string (STRING_CONTAINS_NUL).
    const root = { ...mapped.rows.get(tables.root.name)![0]!, title: 'nul \u0000 inside' };
    const rows = new Map(mapped.rows).set(tables.root.name, [root]);
    const entity: Entity = { kind: 'write', id: r6, key: objectIdToUuid(r6!), doc: doc!, rows };
    const failure = await lockedTransaction(
      world.pool,
      [entityLockKey('purchaseRequests', r6)],
      async (tx) => {
        expect(await writeEntityRowsAndCommit(tx, tables, [entity])).toBeUndefined();
        return writeEntityRows(tx, tables, [entity]);
      },
    ).catch((e: unknown) => e);
    expect(errorCode(failure)).toBe('22021');
  }, 300_000);
});
