import { type Document, EJSON, type ObjectId } from 'bson';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectIdToUuid } from '../../../src/mapping/identity.js';
import { LATENCY_BOUNDS_MS } from '../../../src/runtime/latency-histogram.js';
import { createRuntime, type Runtime } from '../../../src/runtime/runtime.js';
import { moveTo, startShadowRuntime, storedFigures } from './shadow-support.js';
import {
  createRuntimeWorld,
  MARKET_COLLECTIONS,
  type RuntimeWorld,
  servicesReady,
  TcpProxy,
} from './support.js';

describe.skipIf(!servicesReady)('shadow reads compare MongoDB with PostgreSQL off the request path', () => {
  let world: RuntimeWorld;
  let runtime: Runtime;
  let users: ObjectId[];
  let nextUser = 0;
  /** A user no other test in this file reads. */
  const freshUser = () => users[nextUser++]!;
  const findUser = (id: ObjectId, projection?: Document) =>
    world.mongo.collection('users').findOne({ _id: id }, projection ? { projection } : {});
  const setName = (id: ObjectId, name: string) =>
    world.pool.query('update users set name = $1 where id = $2', [name, objectIdToUuid(id)]);

  beforeAll(async () => {
    world = await createRuntimeWorld('shadow', 400);
    users = world.ids.get('users') as ObjectId[];
    runtime = await startShadowRuntime(world, 'shadow_read', { recheckDelayMs: 10 });
  }, 600_000);

  afterAll(async () => {
    await runtime?.close();
    await world?.close();
  });

  it('counts reads that match, with both latencies, into ferry.shadow_reads', async () => {
    const before = await storedFigures(world.pool, 'users');
    const ids = [freshUser(), freshUser(), freshUser()];
    for (const id of ids) {
      const doc = await runtime.shadowRead('market', {
        collection: 'users',
        ids: [id],
        primary: () => findUser(id),
      });
      expect(doc?._id).toEqual(id);
    }
    await runtime.flush();
    const after = await storedFigures(world.pool, 'users');
    expect(after.matched - before.matched).toBe(3);
    expect(after.mismatched - before.mismatched).toBe(0);
    expect(after.primarySamples - before.primarySamples).toBe(3);
    expect(after.candidateSamples - before.candidateSamples).toBe(3);
    expect(runtime.shadowStats.find((s) => s.collection === 'users')?.matched).toBeGreaterThanOrEqual(3);
  });

  it('shadows no call when the sample is 0, and none outside phase shadow_read', async () => {
    const before = await storedFigures(world.pool, 'users');
    const id = freshUser();
    await runtime.shadowRead('market', {
      collection: 'users',
      ids: [id],
      primary: () => findUser(id),
      sample: 0,
    });
    await moveTo(world, runtime, 'dual_write');
    await runtime.shadowRead('market', { collection: 'users', ids: [id], primary: () => findUser(id) });
    await moveTo(world, runtime, 'shadow_read');
    await runtime.flush();
    expect(await storedFigures(world.pool, 'users')).toEqual(before);
  });

  it('stores a document changed in PostgreSQL as a mismatch with its path and cleaned values', async () => {
    const id = freshUser();
    const original = (await findUser(id))!;
    await setName(id, 'x'.repeat(500));
    const before = await storedFigures(world.pool, 'users');
    const answer = await runtime.shadowRead('market', {
      collection: 'users',
      ids: [id],
      primary: () => findUser(id),
    });
    expect(answer?.name).toBe(original.name);
    await runtime.flush();
    expect((await storedFigures(world.pool, 'users')).mismatched - before.mismatched).toBe(1);
    const { rows } = await world.pool.query(
      'select collection, paths, primary_value, candidate_value from ferry.shadow_mismatches where doc_id = $1',
      [EJSON.stringify(id, { relaxed: false })],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].collection).toBe('users');
    expect(rows[0].paths).toEqual(['name']);
    // Only the differing field's values are kept, and the long one is cut.
    expect(rows[0].primary_value).toEqual({ name: original.name });
    expect(Object.keys(rows[0].candidate_value)).toEqual(['name']);
    expect(rows[0].candidate_value.name).toBe(`${'x'.repeat(200)}… (500 characters)`);
  });

  it('keeps a difference a recheck no longer sees out of the mismatches', async () => {
    const id = freshUser();
    const original = (await findUser(id))!;
    await setName(id, 'drifted for a moment');
    const before = await storedFigures(world.pool, 'users');
    let calls = 0;
    await runtime.shadowRead('market', {
      collection: 'users',
      ids: [id],
      primary: async () => {
        // The second read (the recheck) comes after the write that the first one raced.
        if (++calls === 2) await setName(id, String(original.name));
        return findUser(id);
      },
    });
    await runtime.flush();
    const after = await storedFigures(world.pool, 'users');
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(after.matched - before.matched).toBe(1);
    expect(after.mismatched - before.mismatched).toBe(0);
  });

  it('counts a difference whose recheck does not answer in time as timed out, not as a mismatch', async () => {
    const id = freshUser();
    const expected = (await findUser(id))!;
    const before = await storedFigures(world.pool, 'users');
    let calls = 0;
    await runtime.shadowRead('market', {
      collection: 'users',
      primary: () => findUser(id),
      // The first answer differs, as one raced by a write would; the recheck's comes too late.
      candidate: () =>
        ++calls === 1
          ? Promise.resolve({ ...expected, name: 'caught mid-write' })
          : new Promise((resolve) => setTimeout(() => resolve(expected), 3000)),
      timeoutMs: 400,
    });
    await runtime.flush();
    const after = await storedFigures(world.pool, 'users');
    expect(calls).toBe(2);
    expect(after.timedOut - before.timedOut).toBe(1);
    expect(after.mismatched - before.mismatched).toBe(0);
  });

  it('counts a failing and a timed-out candidate, and the caller gets the primary answer at its latency', async () => {
    const before = await storedFigures(world.pool, 'users');
    const id = freshUser();
    const expected = await findUser(id);
    const failed = await runtime.shadowRead('market', {
      collection: 'users',
      primary: () => findUser(id),
      candidate: () => Promise.reject(new Error('PostgreSQL is away')),
    });
    expect(failed).toEqual(expected);
    const started = performance.now();
    const slow = await runtime.shadowRead('market', {
      collection: 'users',
      primary: () => findUser(id),
      candidate: () => new Promise((resolve) => setTimeout(resolve, 3000)),
      timeoutMs: 400,
    });
    const elapsed = performance.now() - started;
    expect(slow).toEqual(expected);
    // The call returned long before the candidate's timeout: it never waited for it.
    expect(elapsed).toBeLessThan(400);
    await runtime.flush();
    const after = await storedFigures(world.pool, 'users');
    expect(after.failed - before.failed).toBe(1);
    expect(after.timedOut - before.timedOut).toBe(1);
    expect(after.matched - before.matched).toBe(0);
  });

  it('counts a candidate whose connection is cut while it reads as failed, and the application keeps running', async () => {
    // The runtime reaches PostgreSQL through a proxy the test cuts, as a stopped server would:
    // pg reports that as an 'error' event on the checked-out client, which crashes a process
    // that does not listen for it.
    const { proxy, url } = await TcpProxy.for(world.targetUrl);
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    pool.on('error', () => {});
    const cut = await createRuntime({
      mongo: world.mongo,
      pg: pool,
      config: {
        mapping: world.plan,
        domains: { market: { collections: MARKET_COLLECTIONS } },
        shadow: { timeoutMs: 60_000, rechecks: 0 },
      },
      readPoolSize: 1,
    });
    // The candidate waits inside PostgreSQL for a lock on users when the proxy cuts it.
    const blocker = await world.pool.connect();
    try {
      const id = freshUser();
      await blocker.query('begin; lock table users in access exclusive mode');
      const answer = await cut.shadowRead('market', {
        collection: 'users',
        ids: [id],
        primary: () => findUser(id),
      });
      expect(answer?._id).toEqual(id);
      for (;;) {
        const { rows } = await world.pool.query(
          "select count(*)::int as n from pg_locks where relation = 'users'::regclass and not granted",
        );
        if (rows[0].n > 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await proxy.stop();
      await cut.shadows.settled();
      expect(cut.shadowStats.find((s) => s.collection === 'users')).toMatchObject({ failed: 1, matched: 0 });
      // Back up, the read pool serves the next candidate on a fresh connection.
      await blocker.query('commit');
      await proxy.start();
      const next = freshUser();
      await cut.shadowRead('market', { collection: 'users', ids: [next], primary: () => findUser(next) });
      await cut.shadows.settled();
      expect(cut.shadowStats.find((s) => s.collection === 'users')).toMatchObject({ failed: 1, matched: 1 });
    } finally {
      await blocker.query('rollback').catch(() => {});
      blocker.release();
      await proxy.start().catch(() => {});
      await cut.close();
      await pool.end();
      await proxy.stop();
    }
  });

  it("times a candidate from when it holds a connection of the read pool, so the shadowing's own wait for one is not charged to PostgreSQL", async () => {
    const narrow = await createRuntime({
      mongo: world.mongo,
      pg: world.pool,
      config: {
        mapping: world.plan,
        domains: { market: { collections: MARKET_COLLECTIONS } },
        shadow: { timeoutMs: 60_000 },
      },
      readPoolSize: 1,
    });
    // A lock on users keeps the first candidate inside PostgreSQL, on the read pool's one
    // connection; the second candidate waits for that connection meanwhile.
    const blocker = await world.pool.connect();
    const read = (id: ObjectId) =>
      narrow.shadowRead('market', { collection: 'users', ids: [id], primary: () => findUser(id) });
    try {
      const [first, second] = [freshUser(), freshUser()];
      await blocker.query('begin; lock table users in access exclusive mode');
      expect((await read(first))?._id).toEqual(first);
      for (;;) {
        const { rows } = await world.pool.query(
          "select count(*)::int as n from pg_locks where relation = 'users'::regclass and not granted",
        );
        if (rows[0].n > 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect((await read(second))?._id).toEqual(second);
      await new Promise((r) => setTimeout(r, 1500));
      await blocker.query('commit');
      await narrow.flush();
      const figures = narrow.shadowStats.find((s) => s.collection === 'users');
      expect(figures?.matched).toBe(2);
      // The first waited 1.5 s in PostgreSQL, for the lock: timed. The second waited as long
      // for the connection, then read at once.
      const samples = (atLeast: boolean) =>
        (figures?.candidateMs ?? []).reduce(
          (n, count, i) => ((LATENCY_BOUNDS_MS[i] ?? Infinity) > 1000 === atLeast ? n + Number(count) : n),
          0,
        );
      expect(samples(true)).toBe(1);
      expect(samples(false)).toBe(1);
    } finally {
      await blocker.query('rollback').catch(() => {});
      blocker.release();
      await narrow.close();
    }
  });

  it("throws the primary's error, and no shadow runs for it", async () => {
    const before = await storedFigures(world.pool, 'users');
    const failure = new Error('MongoDB said no');
    await expect(
      runtime.shadowRead('market', {
        collection: 'users',
        ids: [users[0]],
        primary: () => Promise.reject(failure),
      }),
    ).rejects.toBe(failure);
    await runtime.flush();
    expect(await storedFigures(world.pool, 'users')).toEqual(before);
  });

  it('compares only the projected fields of a projected read', async () => {
    const id = freshUser();
    await setName(id, 'changed outside the projection');
    const before = await storedFigures(world.pool, 'users');
    await runtime.shadowRead('market', {
      collection: 'users',
      ids: [id],
      projection: { email: 1 },
      primary: () => findUser(id, { email: 1 }),
    });
    await runtime.shadowRead('market', {
      collection: 'users',
      ids: [id],
      projection: { name: 1 },
      primary: () => findUser(id, { name: 1 }),
    });
    await runtime.flush();
    const after = await storedFigures(world.pool, 'users');
    expect(after.matched - before.matched).toBe(1);
    expect(after.mismatched - before.mismatched).toBe(1);
  });

  it('compares the order of a sorted read, and only of a sorted read', async () => {
    const ids = [freshUser(), freshUser(), freshUser(), freshUser()];
    const sorted = () =>
      world.mongo
        .collection('users')
        .find({ _id: { $in: ids } })
        .sort({ email: 1 })
        .toArray();
    const before = await storedFigures(world.pool, 'users');
    // The default candidate sorts PostgreSQL's documents as the read does: equal.
    await runtime.shadowRead('market', { collection: 'users', ids, sort: { email: 1 }, primary: sorted });
    const reversed = async () => (await sorted()).reverse();
    // The same documents in another order: equal for a read that does not sort…
    await runtime.shadowRead('market', { collection: 'users', primary: sorted, candidate: reversed });
    // …and a mismatch for one that does.
    await runtime.shadowRead('market', {
      collection: 'users',
      sort: { email: 1 },
      primary: sorted,
      candidate: reversed,
    });
    await runtime.flush();
    const after = await storedFigures(world.pool, 'users');
    expect(after.matched - before.matched).toBe(2);
    expect(after.mismatched - before.mismatched).toBe(1);
    const { rows } = await world.pool.query(
      `select paths from ferry.shadow_mismatches where domain = 'market' order by id desc limit 1`,
    );
    expect(rows[0].paths).toEqual(['$order']);
  });

  it('refuses a read in an undeclared domain or without a candidate', async () => {
    const primary = async () => null;
    await expect(
      runtime.shadowRead('nowhere', { collection: 'users', ids: [], primary }),
    ).rejects.toMatchObject({
      code: 'SHADOW_BAD_READ',
    });
    await expect(runtime.shadowRead('market', { collection: 'users', primary })).rejects.toMatchObject({
      code: 'SHADOW_BAD_READ',
    });
  });

  it('keeps the newest mismatches of a domain up to the cap', async () => {
    const capped = await startShadowRuntime(world, 'shadow_read', { mismatchCap: 3, rechecks: 0 });
    try {
      const ids = [freshUser(), freshUser(), freshUser(), freshUser(), freshUser()];
      for (const id of ids) await setName(id, 'drifted');
      for (const id of ids) {
        await capped.shadowRead('market', { collection: 'users', ids: [id], primary: () => findUser(id) });
        await capped.flush();
      }
      const { rows } = await world.pool.query(
        `select doc_id from ferry.shadow_mismatches where domain = 'market' order by id`,
      );
      expect(rows.map((r) => r.doc_id)).toEqual(
        ids.slice(-3).map((id) => EJSON.stringify(id, { relaxed: false })),
      );
    } finally {
      await capped.close();
    }
  });

  it('keeps the figures through a flush that fails while PostgreSQL is away, and writes them once it is back', async () => {
    const { proxy, url } = await TcpProxy.for(world.targetUrl);
    const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 2000 });
    pool.on('error', () => {});
    const away = await createRuntime({
      mongo: world.mongo,
      pg: pool,
      config: {
        mapping: world.plan,
        domains: { market: { collections: MARKET_COLLECTIONS } },
        shadow: { flushIntervalMs: 3_600_000 },
      },
    });
    try {
      expect(away.phase('users')).toBe('shadow_read');
      const before = await storedFigures(world.pool, 'users');
      await proxy.stop();
      const id = freshUser();
      const doc = await away.shadowRead('market', {
        collection: 'users',
        ids: [id],
        primary: () => findUser(id),
      });
      expect(doc?._id).toEqual(id);
      await away.flush();
      expect(await storedFigures(world.pool, 'users')).toEqual(before);
      await proxy.start();
      await away.flush();
      const after = await storedFigures(world.pool, 'users');
      expect(after.failed - before.failed).toBe(1);
      expect(after.candidateSamples - before.candidateSamples).toBe(1);
    } finally {
      await proxy.start().catch(() => {});
      await away.close();
      await pool.end();
      await proxy.stop();
    }
  });
});
