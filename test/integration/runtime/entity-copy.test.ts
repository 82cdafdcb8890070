import { type Document, Long, ObjectId } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectIdToUuid } from '../../../src/mapping/identity.js';
import {
  copyEntitiesToPostgres,
  EntityCopyError,
  type RuntimeStores,
} from '../../../src/runtime/entity-copy.js';
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
});
