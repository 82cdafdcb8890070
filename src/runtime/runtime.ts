import type { Document } from 'bson';
import type { Collection, Db } from 'mongodb';
import pg from 'pg';
import type { ValidConfig } from '../config/schema.js';
import { FerryError } from '../core/errors.js';
import type { Plan } from '../mapping/model.js';
import { installDriverWriteGuard } from '../sources/mongodb/driver-write-guard.js';
import { ensureFerryState } from '../target/ferry-state.js';
import { wrapCollection } from './collection-wrapper.js';
import {
  heldPrimaryScope,
  holdDomainLock,
  mongoIsPrimary,
  mongoWriteRefused,
  needsDomainLock,
  underDomainLock,
} from './cutover/primary-lock.js';
import { readDocuments } from './document-reader.js';
import {
  type DomainDefinitions,
  mirrorsWrites,
  PHASE_CHANNEL,
  type Phase,
  readDomains,
  registerDomains,
  unknownDomain,
} from './domains.js';
import type { RuntimeStores } from './entity-copy.js';
import { Mirror, type MirrorMode, type MirrorStats } from './mirror.js';
import { Shadower, type ShadowReadOptions } from './shadow/shadow-read.js';
import { type ShadowCounts, ShadowRecorder } from './shadow/shadow-recorder.js';
import { shadowSettings } from './shadow/shadow-settings.js';
import { targetOf } from './stores.js';

/**
 * What `createRuntime` needs: the application's own clients and Ferry's config.
 *
 * @example
 * import type { MongoClient } from 'mongodb';
 * import type pg from 'pg';
 * import { createRuntime, loadConfig } from 'ferry';
 * declare const client: MongoClient;
 * declare const pool: pg.Pool;
 * const options: RuntimeOptions = { mongo: client.db('shop'), pg: pool, config: await loadConfig(), mirror: 'async' };
 * const runtime = await createRuntime(options);
 */
export interface RuntimeOptions {
  /** The application's MongoDB database (the primary in phases `mongo` … `pg_read`). */
  readonly mongo: Db;
  /** The application's PostgreSQL pool. Ferry borrows connections; it never ends the pool. */
  readonly pg: pg.Pool;
  /** The loaded Ferry config: its `mapping` (the reviewed plan) and `domains`. */
  readonly config: Pick<ValidConfig, 'mapping' | 'domains' | 'schemas'> &
    Partial<Pick<ValidConfig, 'shadow'>>;
  /** Target schema of the mapped tables; default the config's first schema, else `public`. */
  readonly schema?: string;
  /** Default mirror mode of wrapped collections and the plugin; default `inline`. */
  readonly mirror?: MirrorMode;
  /** How often phases are re-read when no notification arrives; default 500 ms. */
  readonly pollIntervalMs?: number;
  /**
   * Connections of the runtime's own pool (same settings as `pg`) for the transactions that
   * hold a domain's lock while a write runs in `pg_read` and `pg_primary`; default 8. Kept
   * apart from the application's pool so a write holding the lock can always get a
   * connection for its mirror copy.
   */
  readonly lockPoolSize?: number;
  /**
   * Connections of the runtime's own pool (same settings as `pg`) for documents rebuilt from
   * PostgreSQL: `readDocument(s)`, reads routed to PostgreSQL by phase, and shadow reads'
   * default candidate; default 4. Kept apart from the application's pool, which the write
   * path's copies keep busy under load, so reads do not queue behind them. A shadow candidate is
   * timed from when it holds a connection of this pool (see `ShadowJob.readsPool`).
   */
  readonly readPoolSize?: number;
}

/**
 * A MongoDB write's hold on its domain's lock (`Runtime.holdMongoWrite`).
 *
 * @example
 * declare const runtime: Runtime;
 * const hold: MongoWriteHold | undefined = await runtime.holdMongoWrite('payments');
 * try { console.log(hold?.phase); } finally { await hold?.release(); }
 */
export interface MongoWriteHold {
  /** The phase read under the lock (MongoDB is its primary). */
  readonly phase: Phase;
  release(): Promise<void>;
}

/**
 * The two branches of a write that must follow the primary (`Runtime.withPrimary`).
 *
 * @example
 * import type { ObjectId } from 'bson';
 * declare const runtime: Runtime;
 * declare const id: ObjectId;
 * const branches: PrimaryWrite<void> = {
 *   mongo: async () => { await runtime.collection('wallets').updateOne({ _id: id }, { $inc: { balance: -5 } }); },
 *   pg: async (client) => { await client.query('update wallets set balance = balance - 5 where id = $1', [id.toHexString()]); },
 * };
 */
export interface PrimaryWrite<T> {
  /** The write on MongoDB; use the runtime's wrapped collections, so it is mirrored. */
  readonly mongo: () => Promise<T>;
  /** The write on PostgreSQL, on the client of a transaction that commits when it resolves. */
  readonly pg: (client: pg.PoolClient) => Promise<T>;
}

/**
 * The runtime inside the application (DESIGN.md "The runtime"). It follows each domain's
 * phase, mirrors writes in the mirrored phases, records gaps, and reads documents back from
 * PostgreSQL. Create one per process; `close()` it on shutdown.
 *
 * @example
 * import type { ObjectId } from 'bson';
 * declare const runtime: Runtime;
 * declare const id: ObjectId;
 * if (runtime.phase('orders') === 'pg_read') console.log(await runtime.readDocument('orders', id));
 * await runtime.mirror('orders', [id], 'bulkWrite');   // a write made outside the wrapper
 * console.log(runtime.domainOf('orders'), runtime.stats.copied);
 */
export interface Runtime {
  readonly stores: RuntimeStores;
  /** The current phase of the domain that owns `collection`; `mongo` for a collection in no domain. */
  phase(collection: string): Phase;
  /** The domain that owns `collection`, if any. */
  domainOf(collection: string): string | undefined;
  /** The application's collection `name`, wrapped so writes are mirrored (see `wrapCollection`). */
  collection<T extends Document = Document>(name: string, options?: { mirror?: MirrorMode }): Collection<T>;
  /**
   * Copy entities to PostgreSQL after a write made outside the wrapper and the plugin, if the
   * collection's phase mirrors writes. Never throws; a failure is a gap. With `written`, the
   * call may come while the write still runs: see `Mirror.entities`.
   */
  mirror(
    collection: string,
    ids: readonly unknown[],
    operation: string,
    options?: { mirror?: MirrorMode; written?: PromiseLike<boolean> },
  ): Promise<void>;
  /** Whether writes to `collection` are mirrored right now. */
  mirrors(collection: string): boolean;
  /** The default mirror mode. */
  readonly mirrorMode: MirrorMode;
  /** One document rebuilt from PostgreSQL through `toDoc`, or undefined. */
  readDocument(collection: string, id: unknown): Promise<Document | undefined>;
  /** Documents rebuilt from PostgreSQL, in the order of `ids` (undefined where absent); one round trip per table. */
  readDocuments(collection: string, ids: readonly unknown[]): Promise<(Document | undefined)[]>;
  /**
   * A read shadowed against PostgreSQL (see `ShadowReadOptions`): returns the primary's answer
   * (or throws its error) at the primary's latency. While the domain is in phase `shadow_read`
   * and the sample picks the call, the candidate then runs off the request path under its
   * timeout and is compared canonically; outcomes and both latencies are counted into
   * `ferry.shadow_reads`, mismatches stored in `ferry.shadow_mismatches`. In every other phase
   * it is the primary read alone.
   */
  shadowRead<T>(domain: string, options: ShadowReadOptions<T>): Promise<T>;
  /** The shadow reads' machinery, which the plugin and the wrapper start comparisons with. */
  readonly shadows: Shadower;
  /** Shadow-read figures of this process since it started, per domain and collection. */
  readonly shadowStats: readonly ShadowCounts[];
  /** The current phase of a domain, as this runtime last read it. */
  domainPhase(domain: string): Phase;
  /**
   * Run exactly one branch of a write, on the domain's current primary, coherently with the
   * primary flip: in `pg_read` and `pg_primary` inside a PostgreSQL transaction holding the
   * domain's lock shared, after reading the phase under it (a flip that committed while the
   * write waited sends it to the other branch). In the earlier phases the MongoDB branch runs
   * without touching PostgreSQL; in `pg_only` the PostgreSQL branch runs.
   */
  withPrimary<T>(domain: string, write: PrimaryWrite<T>): Promise<T>;
  /**
   * Run a MongoDB write on `collection` as the primary rule requires: directly before
   * `pg_read`; under the domain's lock in `pg_read` (refused if the phase moved on meanwhile);
   * refused with `CUTOVER_MONGO_WRITE_REFUSED` when PostgreSQL is the primary. The wrapper and
   * the plugin route every write through it.
   */
  guardMongoWrite<T>(collection: string, write: () => Promise<T>): Promise<T>;
  /**
   * `guardMongoWrite` for write paths made of a hook before and a hook after (the Mongoose
   * plugin): undefined when no lock is needed (the phase allows the write as it is), else the
   * held lock with the phase read under it, to `release()` once the write and its mirror copy
   * are done. Throws `CUTOVER_MONGO_WRITE_REFUSED` when PostgreSQL is the primary.
   */
  holdMongoWrite(collection: string): Promise<MongoWriteHold | undefined>;
  /** Re-read the phases now (the runtime also does so on every notification and poll). */
  refresh(): Promise<void>;
  /**
   * Wait for async mirror copies queued so far, and for the shadow comparisons under way,
   * whose figures are then written.
   */
  flush(): Promise<void>;
  readonly stats: MirrorStats;
  /** Flush, stop following phases. Leaves the application's clients open. */
  close(): Promise<void>;
}

/**
 * Start the runtime: set up Ferry's state schema if needed, register the configured domains
 * (new ones start in phase `mongo`), load their phases, and follow changes within a second:
 * LISTEN on `PHASE_CHANNEL` (on a connection of its own, outside the application's pool) and,
 * should a notification be lost with a connection, a poll every `pollIntervalMs`.
 *
 * @example
 * import type { ObjectId } from 'bson';
 * import type { MongoClient } from 'mongodb';
 * import type pg from 'pg';
 * import { createRuntime, loadConfig } from 'ferry';
 * declare const client: MongoClient;
 * declare const pool: pg.Pool;
 * declare const id: ObjectId;
 * const runtime = await createRuntime({ mongo: client.db('shop'), pg: pool, config: await loadConfig() });
 * const orders = runtime.collection('orders');
 * await orders.updateOne({ _id: id }, { $inc: { qty: 1 } });   // mirrored to PostgreSQL in dual_write
 * const doc = await runtime.readDocument('orders', id);          // rebuilt from PostgreSQL
 * await runtime.close();
 */
export async function createRuntime(options: RuntimeOptions): Promise<Runtime> {
  // The app's client already exists; the guard patches the driver's prototype, so its
  // connections are covered from here on (see driver-write-guard.ts).
  installDriverWriteGuard();
  const plan = options.config.mapping;
  if (plan === undefined)
    throw new FerryError('the config has no mapping; the runtime copies entities through it', {
      code: 'RUNTIME_NO_MAPPING',
      category: 'usage',
      hint: 'run `ferry infer` and review the mapping it writes into ferry.config.ts',
    });
  const domains = options.config.domains ?? {};
  const owner = domainOwners(plan, domains);
  const schema = options.schema ?? options.config.schemas?.[0] ?? 'public';
  const stores: RuntimeStores = { mongo: options.mongo, pg: options.pg, plan, schema };
  const readPool = new pg.Pool({ ...options.pg.options, max: options.readPoolSize ?? 4 });
  // A connection lost while idle must not crash the application; the next read reconnects.
  readPool.on('error', () => {});
  const readStores: RuntimeStores = { ...stores, pg: readPool };
  const target = targetOf(options.pg);
  await ensureFerryState(target);
  await registerDomains(target, domains);
  const follower = new PhaseFollower(options.pg, options.pollIntervalMs ?? 500);
  await follower.start();
  const mirror = new Mirror(stores);
  follower.onTick = () => mirror.maintain();
  const mirrorMode = options.mirror ?? 'inline';
  const settings = shadowSettings(options.config.shadow);
  const recorder = new ShadowRecorder(options.pg, settings);
  recorder.start();
  const shadows = new Shadower(
    readStores,
    settings,
    recorder,
    (domain) => (Object.hasOwn(domains, domain) ? (follower.phases.get(domain) ?? 'mongo') : undefined),
    (collection) => owner.get(collection),
  );
  const lockPool = new pg.Pool({ ...options.pg.options, max: options.lockPoolSize ?? 8 });
  // A connection lost while idle must not crash the application; the next write reconnects.
  lockPool.on('error', () => {});
  const domainPhase = (domain: string): Phase =>
    heldPrimaryScope(domain)?.phase ?? follower.phases.get(domain) ?? 'mongo';
  /**
   * The domain whose lock a MongoDB write to `collection` must hold, or undefined when the
   * phase allows it as it is; throws when PostgreSQL is the primary (no lock can change that).
   */
  const mongoWriteLock = (collection: string): string | undefined => {
    const domain = owner.get(collection);
    if (domain === undefined) return undefined;
    const phase = domainPhase(domain);
    if (heldPrimaryScope(domain) === undefined && needsDomainLock(phase)) return domain;
    if (mongoIsPrimary(phase)) return undefined;
    throw mongoWriteRefused(domain, collection, phase);
  };
  const acceptMongoWrite = (domain: string, collection: string) => (current: Phase) => {
    if (!mongoIsPrimary(current)) throw mongoWriteRefused(domain, collection, current);
  };

  const runtime: Runtime = {
    stores,
    mirrorMode,
    phase: (collection) => {
      const domain = owner.get(collection);
      return domain === undefined ? 'mongo' : domainPhase(domain);
    },
    domainPhase,
    withPrimary: async (domain, write) => {
      const scope = heldPrimaryScope(domain);
      // Nested in another write under the lock: that transaction decides, and a second lock
      // (from another connection) would queue behind a waiting flip, which waits for us.
      if (scope !== undefined) return mongoIsPrimary(scope.phase) ? write.mongo() : write.pg(scope.client);
      if (!follower.phases.has(domain)) await follower.poll();
      const phase = follower.phases.get(domain);
      if (phase === undefined) throw unknownDomain(domain);
      if (!needsDomainLock(phase) && mongoIsPrimary(phase)) return write.mongo();
      return underDomainLock(lockPool, domain, (current, client) =>
        mongoIsPrimary(current) ? write.mongo() : write.pg(client),
      );
    },
    guardMongoWrite: async (collection, write) => {
      const domain = mongoWriteLock(collection);
      if (domain === undefined) return write();
      return underDomainLock(lockPool, domain, async (current) => {
        acceptMongoWrite(domain, collection)(current);
        return write();
      });
    },
    holdMongoWrite: async (collection) => {
      const domain = mongoWriteLock(collection);
      if (domain === undefined) return undefined;
      return holdDomainLock(lockPool, domain, acceptMongoWrite(domain, collection));
    },
    domainOf: (collection) => owner.get(collection),
    mirrors: (collection) => mirrorsWrites(runtime.phase(collection)),
    collection: <T extends Document = Document>(name: string, opts: { mirror?: MirrorMode } = {}) =>
      wrapCollection(runtime, options.mongo.collection<T>(name), opts),
    mirror: async (collection, ids, operation, opts = {}) => {
      if (!runtime.mirrors(collection)) return;
      const domain = owner.get(collection);
      // Under the domain lock the copy finishes before the lock is let go: a copy landing
      // after a flip would overwrite the new primary's state with the old one's.
      const mode = domain !== undefined && heldPrimaryScope(domain) !== undefined ? 'inline' : opts.mirror;
      await mirror.entities(collection, ids, operation, mode ?? mirrorMode, opts.written);
    },
    readDocument: async (collection, id) => (await readDocuments(readStores, collection, [id]))[0],
    readDocuments: (collection, ids) => readDocuments(readStores, collection, ids),
    shadowRead: (domain, opts) => shadows.read(domain, opts),
    shadows,
    get shadowStats() {
      return recorder.totals;
    },
    refresh: () => follower.poll(),
    flush: async () => {
      await mirror.flush();
      await shadows.settled();
      await recorder.flush();
    },
    get stats() {
      return mirror.stats;
    },
    close: async () => {
      await mirror.flush();
      await shadows.settled();
      await recorder.stop();
      await follower.stop();
      await mirror.maintain();
      await lockPool.end().catch(() => {});
      await readPool.end().catch(() => {});
    },
  };
  return runtime;
}

/** Which domain owns each collection; refuses collections the mapping does not have. */
function domainOwners(plan: Plan, domains: DomainDefinitions): Map<string, string> {
  const mapped = new Set(plan.collections.map((c) => c.name));
  const owner = new Map<string, string>();
  for (const [name, domain] of Object.entries(domains)) {
    for (const collection of domain.collections) {
      if (!mapped.has(collection))
        throw new FerryError(
          `domain "${name}" names collection "${collection}", which the mapping does not have`,
          {
            code: 'RUNTIME_UNKNOWN_COLLECTION',
            category: 'usage',
            hint: `the mapping has: ${[...mapped].join(', ') || 'no collections'}`,
          },
        );
      owner.set(collection, name);
    }
  }
  return owner;
}

/**
 * Keeps `phases` current. A state machine of two loops that cover for each other:
 * - listening: a dedicated client LISTENs on `PHASE_CHANNEL`; a notification re-reads phases
 *   at once. When the client fails, it is dropped, and the next tick connects a new one.
 * - polling: every `intervalMs` the phases are re-read anyway, so a notification lost while
 *   the listener reconnected costs at most one interval. While PostgreSQL is unreachable,
 *   the last phases read stay in force (a mirrored write then becomes a gap, as it should).
 */
class PhaseFollower {
  readonly phases = new Map<string, Phase>();
  onTick: (() => Promise<void>) | undefined;
  #listener: pg.Client | undefined;
  #connecting = false;
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;
  #stopped = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly intervalMs: number,
  ) {}

  async start(): Promise<void> {
    await this.poll();
    await this.#listen();
    this.#timer = setInterval(() => void this.#tick(), this.intervalMs);
    // The app's event loop must not stay alive for Ferry's sake.
    this.#timer.unref();
  }

  async poll(): Promise<void> {
    for (const domain of await readDomains(targetOf(this.pool))) this.phases.set(domain.name, domain.phase);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.end().catch(() => {});
  }

  async #tick(): Promise<void> {
    if (this.#ticking || this.#stopped) return;
    this.#ticking = true;
    try {
      await this.poll().catch(() => {});
      if (this.#listener === undefined) await this.#listen();
      await this.onTick?.().catch(() => {});
    } finally {
      this.#ticking = false;
    }
  }

  async #listen(): Promise<void> {
    if (this.#connecting || this.#stopped) return;
    this.#connecting = true;
    const client = new pg.Client(this.pool.options);
    try {
      client.on('error', () => {
        if (this.#listener === client) this.#listener = undefined;
        void client.end().catch(() => {});
      });
      client.on('end', () => {
        if (this.#listener === client) this.#listener = undefined;
      });
      client.on('notification', () => void this.poll().catch(() => {}));
      await client.connect();
      await client.query(`listen ${PHASE_CHANNEL}`);
      if (this.#stopped) await client.end();
      else this.#listener = client;
    } catch {
      // PostgreSQL is unreachable: polling carries on, and the next tick tries again.
      await client.end().catch(() => {});
    } finally {
      this.#connecting = false;
    }
  }
}
