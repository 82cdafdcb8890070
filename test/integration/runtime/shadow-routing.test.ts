import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Document, ObjectId } from 'bson';
import type { Collection } from 'mongodb';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectIdToUuid } from '../../../src/mapping/identity.js';
import { ferryMongoosePlugin } from '../../../src/runtime/mongoose-plugin.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { readStatusSnapshot } from '../../../src/runtime/status-snapshot.js';
import { targetOf } from '../../../src/runtime/stores.js';
import { createFerryMetrics, syncHealth, syncHealthSchema } from '../../../src/serve/index.js';
import { runFerry } from '../../support/cli.js';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text.js';
import { mongoUrl } from '../../support/services.js';
import { moveTo, startShadowRuntime, storedFigures } from './shadow-support.js';
import { createRuntimeWorld, MARKET_COLLECTIONS, type RuntimeWorld, servicesReady } from './support.js';

describe.skipIf(!servicesReady)('the plugin and the wrapper route reads by phase', () => {
  let world: RuntimeWorld;
  let runtime: Runtime;
  let connection: mongoose.Connection;
  let User: mongoose.Model<Document>;
  let users: Collection<Document>;
  /** Stored differently in the two stores: its name in PostgreSQL is `PG_NAME`. */
  let drifted: ObjectId;
  let mongoName: string;
  /** Stored the same in both. */
  let same: ObjectId;
  const PG_NAME = 'Named In PostgreSQL';

  beforeAll(async () => {
    world = await createRuntimeWorld('route', 200);
    runtime = await startShadowRuntime(world, 'dual_write', { recheckDelayMs: 10, rechecks: 1 });
    connection = await mongoose
      .createConnection(mongoUrl()!, { dbName: world.mongo.databaseName, serverSelectionTimeoutMS: 5000 })
      .asPromise();
    const schema = new mongoose.Schema({}, { strict: false, versionKey: false });
    schema.plugin(ferryMongoosePlugin(runtime));
    User = connection.model<Document>('User', schema, 'users');
    users = runtime.collection('users');
    [drifted, same] = world.ids.get('users') as [ObjectId, ObjectId];
    mongoName = String((await world.mongo.collection('users').findOne({ _id: drifted }))!.name);
    await world.pool.query('update users set name = $1 where id = $2', [PG_NAME, objectIdToUuid(drifted)]);
  }, 600_000);

  afterAll(async () => {
    await connection?.close();
    await runtime?.close();
    await world?.close();
  });

  it('reads from MongoDB in dual_write, and shadows nothing', async () => {
    const before = await storedFigures(world.pool, 'users');
    expect((await User.findById(drifted).lean())?.name).toBe(mongoName);
    expect((await users.findOne({ _id: drifted }))?.name).toBe(mongoName);
    await runtime.flush();
    expect(await storedFigures(world.pool, 'users')).toEqual(before);
  });

  it('reads from MongoDB in shadow_read and counts what PostgreSQL answers differently', async () => {
    await moveTo(world, runtime, 'shadow_read');
    const before = await storedFigures(world.pool, 'users');
    const hydrated = await User.findById(drifted);
    expect(hydrated?.get('name')).toBe(mongoName);
    expect((await User.findById(same).lean())?._id).toEqual(same);
    expect((await users.findOne({ _id: drifted }))?.name).toBe(mongoName);
    const both = await users
      .find({ _id: { $in: [drifted, same] } })
      .sort({ email: 1 })
      .toArray();
    expect(both.map((d) => d.name)).toContain(mongoName);
    // Not by _id: MongoDB's answer, and nothing to compare it with.
    await User.find({ name: mongoName }).lean();
    await runtime.flush();
    const after = await storedFigures(world.pool, 'users');
    expect(after.mismatched - before.mismatched).toBe(3);
    expect(after.matched - before.matched).toBe(1);
    const { rows } = await world.pool.query(
      `select paths from ferry.shadow_mismatches where domain = 'market' and collection = 'users'`,
    );
    expect(rows.every((r) => r.paths.includes('name'))).toBe(true);
  });

  it("answers findById from PostgreSQL in pg_read: PostgreSQL's document, hydrated or lean", async () => {
    await moveTo(world, runtime, 'pg_read');
    const lean = await User.findById(drifted).lean();
    expect(lean?.name).toBe(PG_NAME);
    const hydrated = await User.findById(drifted.toHexString());
    expect(hydrated).toBeInstanceOf(User);
    expect(hydrated?.get('name')).toBe(PG_NAME);
    expect((await User.findOne({ _id: drifted }).lean())?.name).toBe(PG_NAME);
    const sorted = await User.find({ _id: { $in: [drifted, same] } })
      .sort({ email: -1 })
      .select({ email: 1 })
      .lean();
    const emails = (
      await world.mongo
        .collection('users')
        .find({ _id: { $in: [drifted, same] } })
        .toArray()
    )
      .map((d) => String(d.email))
      .sort()
      .reverse();
    expect(sorted.map((d) => d.email)).toEqual(emails);
    expect(Object.keys(sorted[0]!).sort()).toEqual(['_id', 'email']);
    expect(await User.findById(new mongoose.Types.ObjectId()).lean()).toBeNull();
  });

  it("answers the wrapper's findOne and find from PostgreSQL in pg_read", async () => {
    expect((await users.findOne({ _id: drifted }))?.name).toBe(PG_NAME);
    expect((await users.findOne({ _id: drifted }, { projection: { name: 1, _id: 0 } })) ?? {}).toEqual({
      name: PG_NAME,
    });
    const found = await users
      .find({ _id: { $in: [same, drifted] } })
      .sort({ email: 1 })
      .limit(1)
      .toArray();
    expect(found).toHaveLength(1);
    const iterated: unknown[] = [];
    for await (const doc of users.find({ _id: drifted })) iterated.push(doc.name);
    expect(iterated).toEqual([PG_NAME]);
  });

  it('refuses a read on another filter in pg_read, in the plugin and the wrapper alike, naming no value', async () => {
    const secret = 'secret-value@example.com';
    for (const read of [
      () => User.find({ email: secret }).lean(),
      () => User.findOne({ email: secret }),
      () => users.findOne({ email: secret }),
      () => users.find({ email: secret }).toArray(),
    ]) {
      const error = await read().then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string },
      );
      expect(error?.code).toBe('SHADOW_READ_NOT_ROUTABLE');
      expect(error?.message).toContain('"email"');
      expect(error?.message).not.toContain(secret);
    }
  });

  it('keeps capturing ids from MongoDB for writes in pg_read, whatever their filter', async () => {
    const email = String((await world.mongo.collection('users').findOne({ _id: same }))!.email);
    await User.updateMany({ email }, { $set: { name: 'Renamed In pg_read' } });
    expect((await User.findById(same).lean())?.name).toBe('Renamed In pg_read');
    expect((await world.mongo.collection('users').findOne({ _id: same }))?.name).toBe('Renamed In pg_read');
  });

  it('shows the shadow figures in ferry status, /health/sync and /metrics, and no mismatch value', async () => {
    await runtime.flush();
    const domains = { market: { collections: MARKET_COLLECTIONS } };
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'ferry-shadow-status-'));
    try {
      await writeFile(path.join(cwd, 'ferry.config.ts'), `export default ${JSON.stringify({ domains })};\n`);
      const json = await runFerry(['status', '--json', '--target', world.targetUrl], { cwd });
      expect(json.code, json.stderr).toBe(0);
      const users = (
        JSON.parse(json.stdout).shadow as { collection: string; mismatched: number; matched: number }[]
      ).find((s) => s.collection === 'users');
      expect(users?.mismatched).toBe(3);
      expect(users?.matched).toBe(1);
      const text = await runFerry(['status', '--target', world.targetUrl], { cwd });
      expect(text.stdout).toMatch(/shadow reads\s+\|?\s*matched/);
      expect(text.stdout).toContain('PostgreSQL p95');
      for (const output of [json.stdout, text.stdout]) {
        expect(output).not.toContain(PG_NAME);
        expect(output).not.toContain(mongoName);
      }
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
    const snapshot = await readStatusSnapshot(targetOf(world.pool), { schema: 'public', domains });
    const health = syncHealthSchema.parse(syncHealth(snapshot));
    expect(health.domains[0]?.shadow).toEqual({ matched: 1, mismatched: 3, timedOut: 0, failed: 0 });
    const metrics = createFerryMetrics();
    metrics.update(snapshot, syncHealth(snapshot), 0.01);
    const families = parsePrometheusText(await metrics.registry.metrics());
    expect(sampleValue(families, 'ferry_shadow_reads', { collection: 'users', outcome: 'mismatched' })).toBe(
      3,
    );
    expect(sampleValue(families, 'ferry_shadow_latency_seconds_count', { collection: 'users' })).toBe(4);
  });
});
