import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Document, ObjectId } from 'bson';
import { type Collection, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { spawnScript } from '../../support/cli.js';
import { mongoUrl } from '../../support/services.js';
import {
  createRuntimeWorld,
  differences,
  type RuntimeWorld,
  servicesReady,
  startRuntime,
  TcpProxy,
  verifyWorld,
} from './support.js';

/**
 * The primary goes away under a live app: the app's MongoDB client reaches FerretDB through a
 * proxy the test stops and starts (see TcpProxy). Writes must fail exactly as they fail
 * without Ferry, and PostgreSQL must not change.
 */
describe.skipIf(!servicesReady)('an outage of FerretDB, the primary', () => {
  let world: RuntimeWorld;
  let proxy: TcpProxy;
  let appClient: MongoClient;
  let runtime: Runtime;

  beforeAll(async () => {
    world = await createRuntimeWorld('ferretdown', 200);
    const proxied = await TcpProxy.for(mongoUrl()!);
    proxy = proxied.proxy;
    appClient = new MongoClient(proxied.url, { serverSelectionTimeoutMS: 1500, retryWrites: false });
    await appClient.connect();
    runtime = await startRuntime(world, { mongo: appClient.db(world.mongo.databaseName) });
  }, 600_000);

  afterAll(async () => {
    await runtime?.close();
    await appClient?.close().catch(() => {});
    await proxy?.stop();
    await world?.close();
  });

  /** Every table of the mapping, row counts and a hash of the contents. */
  async function snapshot(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const collection of world.plan.collections)
      for (const table of collection.tables) {
        const { rows } = await world.pool.query(
          `select count(*)::text || ':' || coalesce(md5(string_agg(t::text, '|' order by t::text)), '') as s from public."${table.name}" t`,
        );
        out[table.name] = rows[0].s;
      }
    return out;
  }

  it("guards the app's own client against the driver's dead-socket hang: createRuntime installs the write guard", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ferry-guard-'));
    try {
      const planFile = path.join(dir, 'plan.json');
      await writeFile(planFile, JSON.stringify(world.plan));
      const probe = spawnScript(
        fileURLToPath(new URL('./guard-probe.ts', import.meta.url)),
        [world.targetUrl, mongoUrl()!, planFile],
        dir,
        { pipe: true },
      );
      let out = '';
      probe.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      const code = await new Promise((resolve) => probe.once('exit', resolve));
      expect(code).toBe(0);
      expect(JSON.parse(out)).toEqual({ before: false, after: true });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('fails each write as the bare driver does, and half-applies nothing to PostgreSQL', async () => {
    const db = appClient.db(world.mongo.databaseName);
    const wrapped = runtime.collection('purchaseRequests');
    const bare: Collection<Document> = db.collection('purchaseRequests');
    const [id1, id2] = world.ids.get('purchaseRequests')! as ObjectId[];
    const template = (await world.mongo
      .collection('purchaseRequests')
      .findOne({ _id: id2! }, { promoteValues: false }))!;
    const before = await snapshot();

    await proxy.stop();
    // The first operation after the cut meets the dead socket (a network error); from then on
    // the driver knows the server is gone (server selection fails). Compare like with like.
    await bare.findOne({}).catch(() => undefined);
    const writes: [string, (c: Collection<Document>) => Promise<unknown>][] = [
      ['insertOne', (c) => c.insertOne({ ...template, _id: undefined, title: 'never' })],
      ['updateOne by _id', (c) => c.updateOne({ _id: id1! }, { $inc: { __v: 1 } })],
      ['updateMany by filter', (c) => c.updateMany({ status: 'open' }, { $set: { status: 'x' } })],
      ['replaceOne', (c) => c.replaceOne({ _id: id2! }, { ...template, title: 'never' })],
      ['deleteMany', (c) => c.deleteMany({ title: template.title })],
      ['findOneAndDelete', (c) => c.findOneAndDelete({ _id: id1! })],
      ['bulkWrite', (c) => c.bulkWrite([{ deleteOne: { filter: { _id: id1! } } }])],
    ];
    for (const [name, write] of writes) {
      const withFerry = await write(wrapped).then(
        () => undefined,
        (e: unknown) => e,
      );
      const without = await write(bare).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(withFerry, name).toBeInstanceOf(Error);
      expect((withFerry as Error).name, name).toBe((without as Error).name);
    }
    expect(await snapshot()).toEqual(before);
    const gaps = await world.pool.query('select count(*)::int as n from ferry.gaps where closed_at is null');
    expect(gaps.rows[0].n).toBe(0);

    await proxy.start();
    await wrapped.updateOne({ _id: id1! }, { $set: { title: 'after the outage' } });
    expect((await runtime.readDocument('purchaseRequests', id1))?.title).toBe('after the outage');
    const result = await verifyWorld(world);
    expect(differences(result)).toEqual([]);
    expect(result.ok).toBe(true);
  }, 300_000);
});
