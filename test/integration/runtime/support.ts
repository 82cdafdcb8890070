import net from 'node:net';
import { Decimal128, type Document, Long } from 'bson';
import { type Db, MongoClient } from 'mongodb';
import pg from 'pg';
import {
  MARKETPLACE_COLLECTIONS,
  type MarketplaceCollection,
} from '../../../src/generate/marketplace/context.js';
import { generateMarketplace } from '../../../src/generate/marketplace/generate-marketplace.js';
import { MARKETPLACE_INDEXES } from '../../../src/generate/marketplace/indexes.js';
import { inferMapping } from '../../../src/infer/infer-mapping.js';
import { backfill } from '../../../src/load/backfill.js';
import type { Plan } from '../../../src/mapping/model.js';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { setPhase } from '../../../src/runtime/domains.js';
import { createRuntime, type Runtime } from '../../../src/runtime/runtime.js';
import { openSource } from '../../../src/sources/open.js';
import { openTarget } from '../../../src/target/open-target.js';
import type { VerifyResult } from '../../../src/verify/types.js';
import { verify } from '../../../src/verify/verify.js';
import { createTestDatabase, mongoUrl, postgresUrl } from '../../support/services.js';

/**
 * The runtime tests' world: the generated marketplace in FerretDB (the primary), backfilled
 * into a fresh PostgreSQL database through a mapping inferred from it, plus the application's
 * own clients (a driver `Db` and a `pg.Pool`), as an app using the runtime would have them.
 *
 * FerretDB v1.24 drops the connection on Decimal128, so the marketplace's money is stored in
 * integer minor units (an Int64 of cents) here; everything else (embedded arrays, the
 * polymorphic payment target, int64 sequences, TTL dates, schema drift) is as generated.
 */
export const servicesReady = Boolean(postgresUrl() && mongoUrl());

export interface RuntimeWorld {
  readonly client: MongoClient;
  readonly mongo: Db;
  readonly pool: pg.Pool;
  readonly plan: Plan;
  readonly schema: 'public';
  /** `mongodb://…/<database>`: the source for verify. */
  readonly sourceUri: string;
  readonly targetUrl: string;
  /** The ids of each collection as generated, for tests to pick entities from. */
  readonly ids: ReadonlyMap<string, readonly unknown[]>;
  close(): Promise<void>;
}

/** The marketplace with Decimal128 money as Int64 minor units (see above). */
export function marketplaceDocuments(scale: number, seed = 7): Map<string, Document[]> {
  const out = new Map<string, Document[]>();
  for (const collection of generateMarketplace({ seed, scale })) {
    out.set(
      collection.name,
      [...collection.docs()].map((d) => withoutDecimals(d) as Document),
    );
  }
  return out;
}

/** Every Decimal128 in a value as an Int64 of its hundredths. */
export function withoutDecimals(value: unknown): unknown {
  if (value instanceof Decimal128) return Long.fromString(String(Math.round(Number(value.toString()) * 100)));
  if (Array.isArray(value)) return value.map(withoutDecimals);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutDecimals(v)]));
  }
  return value;
}

/**
 * Seed FerretDB with the marketplace, infer its mapping, backfill it into a new database, and
 * hand back the clients. `prefix` keeps databases of parallel test files apart.
 */
export async function createRuntimeWorld(prefix: string, scale = 300): Promise<RuntimeWorld> {
  const database = `ferry_rt_${prefix}_${process.pid}_${Date.now().toString(36)}`;
  const url = new URL(mongoUrl()!);
  url.pathname = `/${database}`;
  const sourceUri = url.toString();
  const client = new MongoClient(mongoUrl()!, { serverSelectionTimeoutMS: 5000 });
  const mongo = client.db(database);
  const ids = new Map<string, unknown[]>();
  for (const [name, docs] of marketplaceDocuments(scale)) {
    for (const index of MARKETPLACE_INDEXES[name as MarketplaceCollection]) {
      if (index.name === '_id_') continue;
      const { key, name: indexName, ...options } = index;
      // FerretDB 1.24 lacks some kinds (text, for one): the mapping then simply has fewer indexes.
      await mongo
        .collection(name)
        .createIndex(key as never, { name: indexName, ...options } as never)
        .catch(() => {});
    }
    await mongo.collection(name).insertMany(docs as never[]);
    ids.set(
      name,
      docs.map((d) => d._id),
    );
  }
  const target = await createTestDatabase(`rt_${prefix}`);
  const source = await openSource(sourceUri);
  let plan: Plan;
  try {
    // The runtime tests drift and repair every collection, the ledger too, which inference
    // proposes as append-only; a ledger that refuses edits has its own test (entity-promises).
    const inferred = (await inferMapping(source)).plan;
    plan = parsePlan({
      ...inferred,
      collections: inferred.collections.map(({ appendOnly: _appendOnly, ...c }) => c),
    });
  } finally {
    await source.close();
  }
  const db = await openTarget(target.url);
  try {
    const load = await openSource(sourceUri);
    try {
      await backfill({ source: load, target: db, plan, encodeWorkers: { threads: 0 } });
    } finally {
      await load.close();
    }
  } finally {
    await db.close();
  }
  const pool = new pg.Pool({ connectionString: target.url, max: 10 });
  pool.on('error', () => {});
  return {
    client,
    mongo,
    pool,
    plan,
    schema: 'public',
    sourceUri,
    targetUrl: target.url,
    ids,
    async close() {
      await pool.end().catch(() => {});
      await mongo.dropDatabase().catch(() => {});
      await client.close();
      await target.drop();
    },
  };
}

/** Ferry's deep verify of the whole world: MongoDB as the source, PostgreSQL as the target. */
export async function verifyWorld(world: RuntimeWorld, only?: readonly string[]): Promise<VerifyResult> {
  const source = await openSource(world.sourceUri);
  const db = await openTarget(world.targetUrl);
  try {
    return await verify({
      source,
      db,
      plan: world.plan,
      schema: world.schema,
      record: false,
      ...(only && { only }),
    });
  } finally {
    await source.close();
    await db.close();
  }
}

/** The differences of a verify result, in a form a failing assertion shows well. */
export function differences(result: VerifyResult): unknown[] {
  return result.collections.flatMap((c) => c.differences.map((d) => ({ collection: c.collection, ...d })));
}

/** Every marketplace collection: the tests' one domain. */
export const MARKET_COLLECTIONS: readonly string[] = MARKETPLACE_COLLECTIONS;

/**
 * A runtime over the world (or over the app's own clients, e.g. through a proxy) with every
 * collection in one domain, `market`, moved to `phase` (default dual_write) and followed.
 */
export async function startRuntime(
  world: RuntimeWorld,
  options: { mongo?: Db; pg?: pg.Pool; phase?: 'mongo' | 'dual_write' } = {},
): Promise<Runtime> {
  const runtime = await createRuntime({
    mongo: options.mongo ?? world.mongo,
    pg: options.pg ?? world.pool,
    config: { mapping: world.plan, domains: { market: { collections: MARKET_COLLECTIONS } } },
  });
  if ((options.phase ?? 'dual_write') !== 'mongo') {
    await setPhase(world.pool, 'market', 'dual_write', { reason: 'test' });
    await runtime.refresh();
  }
  return runtime;
}

/** Wait until `condition` holds, checking every 20 ms; fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A TCP proxy in front of a service, so a test can take the service away from the code under
 * test (connections refused, open ones cut) and bring it back on the same port, without
 * stopping the real server. The worktree's PostgreSQL also stores FerretDB's data, and other
 * test files share both, so stopping the real servers would take down more than the test means to.
 */
export class TcpProxy {
  #server: net.Server | undefined;
  #sockets = new Set<net.Socket>();
  #port = 0;

  constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {}

  /** The URL with its host and port replaced by the proxy's. */
  static async for(url: string): Promise<{ proxy: TcpProxy; url: string }> {
    const u = new URL(url);
    const proxy = new TcpProxy(u.hostname, Number(u.port));
    u.port = String(await proxy.start());
    u.hostname = '127.0.0.1';
    return { proxy, url: u.toString() };
  }

  get port(): number {
    return this.#port;
  }

  /** Listen (again, on the same port after a stop). */
  async start(): Promise<number> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.host);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as net.AddressInfo).port;
    this.#server = server;
    return this.#port;
  }

  /** Refuse new connections and cut the open ones, as a stopped server would. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
