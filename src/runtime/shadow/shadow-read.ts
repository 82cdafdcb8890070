import type { Document } from 'bson';
import type pg from 'pg';
import { FerryError } from '../../core/errors.js';
import { queryableOnClient } from '../../target/postgres-target.js';
import type { Queryable } from '../../target/target-database.js';
import { readDocuments } from '../document-reader.js';
import type { Phase } from '../domains.js';
import type { RuntimeStores } from '../entity-copy.js';
import { compareResults, plainOf, type ReadShape } from './compare-results.js';
import type { ShadowOutcome, ShadowRecorder } from './shadow-recorder.js';
import type { ShadowSettings } from './shadow-settings.js';
import { type SortSpec, sortDocuments } from './sort-documents.js';

/**
 * One shadowed read. `primary` is the application's own read (MongoDB, while it is the
 * primary); its answer is what the caller gets. The candidate is PostgreSQL's answer to the
 * same question: by default, with `collection` and `ids`, the documents `readDocuments`
 * rebuilds through the mapping, so no SQL is needed; or any `candidate` of the app's own.
 *
 * @example
 * import type { Model } from 'mongoose';
 * import type { ObjectId } from 'bson';
 * declare const Wallet: Model<{ balance: number }>;
 * declare const id: ObjectId;
 * const read: ShadowReadOptions<unknown> = {
 *   collection: 'wallets',
 *   ids: [id],
 *   primary: () => Wallet.findById(id).lean(),
 *   projection: { balance: 1 },
 * };
 */
export interface ShadowReadOptions<T> {
  /** The read the caller gets the answer (or the error) of. Called again for a recheck. */
  readonly primary: () => PromiseLike<T>;
  /** The collection read: names the figures' row, and with `ids` gives the default candidate. */
  readonly collection?: string;
  /** The `_id`s the read asks for; the default candidate reads exactly these from PostgreSQL. */
  readonly ids?: readonly unknown[];
  /** The candidate read, when it is not the default one. */
  readonly candidate?: () => PromiseLike<unknown>;
  /** Equality of the two answers, when the canonical comparison is not the one wanted. */
  readonly compare?: (primary: T, candidate: unknown) => boolean;
  /** The read's projection: only the projected fields are compared. */
  readonly projection?: Document;
  /** The read's sort: only then is the order compared. */
  readonly sort?: SortSpec;
  /** The share of calls shadowed, 0..1; default the config's `shadow.sample` (1). */
  readonly sample?: number;
  /** The candidate's hard timeout; default the config's `shadow.timeoutMs` (2000). */
  readonly timeoutMs?: number;
}

/**
 * What a shadow comparison needs, once the primary has answered.
 *
 * @example
 * import type { Document } from 'bson';
 * declare const runtime: Runtime;
 * declare const doc: Document;
 * const job: ShadowJob = {
 *   domain: 'money', collection: 'wallets', primaryResult: doc, primaryMs: 1.5,
 *   primaryAgain: async () => doc, candidate: async () => doc, shape: { projection: { balance: 1 } },
 * };
 * runtime.shadows.start(job);
 */
export interface ShadowJob {
  readonly domain: string;
  readonly collection: string;
  readonly primaryResult: unknown;
  readonly primaryMs: number;
  /** The primary read again, for a recheck. */
  readonly primaryAgain: () => PromiseLike<unknown>;
  /** The candidate read; with `readsPool`, it is given the connection to read on. */
  readonly candidate: (db?: Queryable) => PromiseLike<unknown>;
  readonly compare?: (primary: unknown, candidate: unknown) => boolean;
  readonly shape: ReadShape;
  readonly timeoutMs?: number;
  /**
   * The candidate reads PostgreSQL through the runtime's read pool (the default candidate does):
   * it is handed a connection of that pool, and its latency is timed from then on. The wait for
   * the connection is the shadowing's own (every shadowed read is read twice), and so is opening
   * one; timed, the p95 gate would charge them to PostgreSQL. The timeout still counts from the
   * start, so a candidate that cannot get a connection in time is timed out.
   */
  readonly readsPool?: boolean;
}

const TIMED_OUT: unique symbol = Symbol('timed out');

/**
 * Runs shadow reads for one runtime: decides which calls are shadowed, runs the candidate off
 * the request path under its timeout, compares, rechecks a difference, and hands the outcome
 * to the recorder. Nothing the candidate does reaches the caller: not its errors, not its
 * latency (it starts only after the primary's answer is handed back).
 *
 * @example
 * declare const runtime: Runtime;
 * const shadows = runtime.shadows;   // a Shadower
 * if (shadows.picks()) console.log('this call is shadowed');
 * await shadows.settled();   // every running comparison done and counted
 */
export class Shadower {
  #inFlight = new Set<Promise<void>>();

  constructor(
    private readonly stores: RuntimeStores,
    private readonly settings: ShadowSettings,
    private readonly recorder: ShadowRecorder,
    private readonly phaseOf: (domain: string) => Phase | undefined,
    private readonly domainOf: (collection: string) => string | undefined,
  ) {}

  /** `runtime.shadowRead`: see `Runtime.shadowRead`. */
  async read<T>(domain: string, options: ShadowReadOptions<T>): Promise<T> {
    const phase = this.phaseOf(domain);
    if (phase === undefined)
      throw new FerryError(`shadow read in domain "${domain}", which is not declared`, {
        code: 'SHADOW_BAD_READ',
        category: 'usage',
        hint: 'declare the domain under `domains` in ferry.config.ts',
      });
    if (options.collection !== undefined && this.domainOf(options.collection) !== domain)
      throw new FerryError(`collection "${options.collection}" is not in domain "${domain}"`, {
        code: 'SHADOW_BAD_READ',
        category: 'usage',
        where: { collection: options.collection },
        hint: 'pass the domain that owns the collection (see `domains` in ferry.config.ts)',
      });
    const candidate = options.candidate ?? this.defaultCandidate(options);
    const shadowed = phase === 'shadow_read' && this.#picks(options.sample);
    if (!shadowed) return options.primary();
    const started = performance.now();
    const result = await options.primary();
    const primaryMs = performance.now() - started;
    this.start({
      domain,
      collection: options.collection ?? '*',
      primaryResult: result,
      primaryMs,
      primaryAgain: options.primary,
      candidate,
      ...(options.candidate === undefined && { readsPool: true }),
      ...(options.compare && { compare: options.compare as (p: unknown, c: unknown) => boolean }),
      shape: {
        ...(options.projection && { projection: options.projection }),
        ...(options.sort && { sort: options.sort }),
      },
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    });
    return result;
  }

  /**
   * Whether a read is shadowed: by the sample, and only while fewer than `maxInFlight`
   * candidates run (a slow PostgreSQL must not pile up work in the app).
   */
  #picks(sample: number | undefined): boolean {
    if (this.#inFlight.size >= this.settings.maxInFlight) return false;
    return Math.random() < (sample ?? this.settings.sample);
  }

  /** Whether a read routed by phase (the plugin, the wrapper) should be shadowed now. */
  picks(): boolean {
    return this.#picks(undefined);
  }

  /**
   * The default candidate: the documents of `ids` rebuilt from PostgreSQL, in the read's sort
   * order when it sorts.
   */
  defaultCandidate(options: {
    collection?: string;
    ids?: readonly unknown[];
    sort?: SortSpec;
  }): (db?: Queryable) => Promise<unknown> {
    const { collection, ids, sort } = options;
    if (collection === undefined || ids === undefined)
      throw new FerryError('a shadow read needs a `candidate`, or a `collection` and the `ids` it reads', {
        code: 'SHADOW_BAD_READ',
        category: 'usage',
        hint: 'pass { collection, ids } for a read by _id, or your own candidate read',
      });
    return async (db?: Queryable) => {
      const docs = (await readDocuments(this.stores, collection, ids, db)).filter((d) => d !== undefined);
      return sort === undefined ? docs : sortDocuments(docs, sort);
    };
  }

  /** Start the comparison off the request path (after the caller has its answer). */
  start(job: ShadowJob): void {
    const run = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#compare(job));
    this.#inFlight.add(run);
    void run.finally(() => this.#inFlight.delete(run));
  }

  /** Wait for the comparisons under way. */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  async #compare(job: ShadowJob): Promise<void> {
    const timeoutMs = job.timeoutMs ?? this.settings.timeoutMs;
    const first = await this.#runCandidate(job, timeoutMs);
    let outcome: ShadowOutcome;
    if (first.value === TIMED_OUT) outcome = 'timed_out';
    else if (first.failed) outcome = 'failed';
    else {
      let primary = job.primaryResult;
      let candidate: unknown = first.value;
      let differences = this.#differences(job, primary, candidate);
      let unfinished: ShadowOutcome | undefined;
      for (let recheck = 0; differences.length > 0 && recheck < this.settings.rechecks; recheck++) {
        // A write between the two reads shows as a difference that the next pair of reads no
        // longer has; drift stays. The wait doubles, so an entity written again and again gets
        // a quiet moment; a difference whose recheck cannot be finished proves nothing either
        // way, and counts as the recheck's timeout or failure, not as drift.
        await new Promise((resolve) => setTimeout(resolve, this.settings.recheckDelayMs * 2 ** recheck));
        try {
          primary = await job.primaryAgain();
        } catch {
          unfinished = 'failed';
          break;
        }
        const again = await this.#runCandidate(job, timeoutMs);
        if (again.value === TIMED_OUT || again.failed) {
          unfinished = again.failed ? 'failed' : 'timed_out';
          break;
        }
        candidate = again.value;
        differences = this.#differences(job, primary, candidate);
      }
      outcome = differences.length === 0 ? 'matched' : (unfinished ?? 'mismatched');
      if (outcome === 'mismatched')
        for (const difference of differences) this.recorder.mismatch(job.domain, job.collection, difference);
    }
    this.recorder.record(job.domain, job.collection, outcome, job.primaryMs, first.ms);
  }

  #differences(job: ShadowJob, primary: unknown, candidate: unknown) {
    if (job.compare === undefined) return compareResults(primary, candidate, job.shape);
    return job.compare(primary, candidate)
      ? []
      : [{ paths: [''], primary: { '': plainOf(primary) }, candidate: { '': plainOf(candidate) } }];
  }

  async #runCandidate(
    job: ShadowJob,
    timeoutMs: number,
  ): Promise<{ value: unknown; failed: boolean; ms: number }> {
    const asked = performance.now();
    let started = asked;
    let timer: NodeJS.Timeout | undefined;
    let client: pg.PoolClient | undefined;
    let broken: Error | undefined;
    const markBroken = (error: Error) => {
      broken = error;
    };
    let done = false;
    const running = (async () => {
      if (job.readsPool !== true) return job.candidate();
      const held = await this.stores.pg.connect();
      // Timed out while waiting: the connection goes straight back.
      if (done) {
        held.release();
        throw new Error('timed out waiting for a connection');
      }
      // As in a transaction (postgres-target.ts): a connection lost while held is reported as
      // an 'error' event, which the pool listens for only on idle clients; unheard, it would
      // crash the application.
      held.on('error', markBroken);
      client = held;
      started = performance.now();
      return job.candidate(queryableOnClient(held));
    })();
    // A candidate that fails after its timeout must not become an unhandled rejection.
    running.catch(() => {});
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
    });
    try {
      const value = await Promise.race([running, timeout]);
      return { value, failed: false, ms: performance.now() - started };
    } catch {
      return { value: undefined, failed: true, ms: performance.now() - started };
    } finally {
      done = true;
      clearTimeout(timer);
      // A candidate still running past its timeout keeps its connection until it ends.
      const held = client;
      // One that failed may have lost it: it is closed rather than handed to the next read.
      const release = (failed: boolean) => {
        held?.off('error', markBroken);
        held?.release(broken ?? failed);
      };
      if (held !== undefined)
        void running.then(
          () => release(false),
          () => release(true),
        );
    }
  }
}
