import { MongoError } from 'mongodb';
import { errorCode } from '../target/retry.js';
import {
  type CopyOutcome,
  copyEntitiesToPostgres,
  EntityCopyError,
  type RuntimeStores,
} from './entity-copy.js';
import { type GapRecord, moveMongoGaps, recordGaps } from './gaps.js';
import { targetOf } from './stores.js';

/**
 * The mirror: after MongoDB (the primary) has decided a write, bring every affected entity to
 * PostgreSQL with the entity copier, inline (the caller awaits the copy) or async (queued and
 * copied in the background, batched per collection). A copy that fails becomes a gap; the
 * mirror never throws at the caller (DESIGN.md runtime rule 4).
 */

/**
 * `inline`: the write returns after the copy; `async`: the write returns first.
 *
 * @example
 * declare const runtime: Runtime;
 * const mode: MirrorMode = 'async';
 * const events = runtime.collection('events', { mirror: mode });
 * await runtime.flush();   // waits for the async copies queued so far
 */
export type MirrorMode = 'inline' | 'async';

/**
 * What the mirror has done since it started.
 *
 * @example
 * declare const runtime: Runtime;
 * const { copied, gaps, pendingGaps, postgresDown }: MirrorStats = runtime.stats;
 * if (postgresDown) console.warn(`PostgreSQL down: ${gaps} gaps so far, ${pendingGaps} not yet recorded`);
 */
export interface MirrorStats {
  /** Entities copied (upserted or deleted) or rejected into `ferry.rejects`. */
  readonly copied: number;
  /** Entities recorded as gaps (in `ferry.gaps`, or in MongoDB while PostgreSQL was down). */
  readonly gaps: number;
  /** Gaps that neither store could take yet; kept in memory and retried. */
  readonly pendingGaps: number;
  /** PostgreSQL is unreachable: copies are not tried, writes go straight to gaps. */
  readonly postgresDown: boolean;
}

/** The error a gap records when the copy was not tried because PostgreSQL is down. */
const POSTGRES_DOWN = Object.assign(new Error('PostgreSQL is unreachable; the copy was not tried'), {
  code: 'POSTGRES_UNREACHABLE',
});

/** Node socket codes and SQLSTATEs meaning the server is not there (rather than refusing this work). */
const UNREACHABLE =
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|EPIPE|08...|57P0[123])$/;

/** Whether a copy failed because PostgreSQL cannot be reached (not MongoDB, not the rows). */
function postgresUnreachable(error: unknown): boolean {
  const first = error instanceof EntityCopyError ? error.failures[0]?.error : error;
  if (first instanceof MongoError) return false;
  const code = errorCode(first);
  if (code !== undefined) return UNREACHABLE.test(code);
  // pg's "Connection terminated unexpectedly" and connect timeouts carry no code.
  return (
    first instanceof Error &&
    /connection terminated|timeout exceeded when trying to connect/i.test(first.message)
  );
}

interface Pending {
  readonly ids: unknown[];
  readonly operations: Set<string>;
}

export class Mirror {
  #copied = 0;
  #gaps = 0;
  /** Gaps neither store took (both down at once); retried by `maintain`. */
  #unrecorded: GapRecord[] = [];
  /** Gaps parked in MongoDB by this process that still need moving. */
  #parked = false;
  /** PostgreSQL was found unreachable and has not answered a probe since. */
  #postgresDown = false;
  /** Async copies waiting for their batch, by collection. */
  #queue = new Map<string, Pending>();
  #scheduled = false;
  #inFlight = new Set<Promise<void>>();

  constructor(private readonly stores: RuntimeStores) {}

  get stats(): MirrorStats {
    return {
      copied: this.#copied,
      gaps: this.#gaps,
      pendingGaps: this.#unrecorded.length,
      postgresDown: this.#postgresDown,
    };
  }

  /**
   * Copy `ids` of `collection` to PostgreSQL after `operation`, as `mode` says. Never throws.
   *
   * `written` lets the caller start the copy while the primary's write is still running. An
   * inline copy then takes the entities' locks meanwhile, so that round trip is off the
   * write's critical path; the copier waits for `written` while holding the locks, and only
   * then reads the primary (DESIGN.md runtime rule 1 holds: the read is still made under the
   * lock, and after the write). An async copy is queued once the write is done. `written`
   * resolves false when the write never reached the server: nothing is copied, no gap.
   *
   * @example
   * import type { ObjectId } from 'bson';
   * declare const mirror: Mirror;
   * declare const id: ObjectId;
   * await mirror.entities('orders', [id], 'updateOne', 'inline');
   */
  async entities(
    collection: string,
    ids: readonly unknown[],
    operation: string,
    mode: MirrorMode,
    written?: PromiseLike<boolean>,
  ): Promise<void> {
    if (ids.length === 0) return;
    if (mode === 'inline') {
      await this.#copy(collection, ids, operation, written);
      return;
    }
    // Async: the copy follows the write's response, so it never needs to start before it.
    if (written !== undefined && !(await written)) return;
    const pending = this.#queue.get(collection) ?? { ids: [], operations: new Set<string>() };
    pending.ids.push(...ids);
    pending.operations.add(operation);
    this.#queue.set(collection, pending);
    if (!this.#scheduled) {
      this.#scheduled = true;
      // After the caller's response: everything queued in this turn goes in one copy.
      setImmediate(() => this.#drainQueue());
    }
  }

  /** Wait until every async copy queued so far has finished (or become a gap). */
  async flush(): Promise<void> {
    while (this.#queue.size > 0 || this.#inFlight.size > 0) {
      if (this.#queue.size > 0) this.#drainQueue();
      await Promise.all([...this.#inFlight]);
    }
  }

  /**
   * Background upkeep, run by the runtime's timer: record gaps that found no store before, and
   * move gaps parked in MongoDB into `ferry.gaps` once PostgreSQL answers.
   */
  async maintain(): Promise<void> {
    if (this.#postgresDown) {
      try {
        await targetOf(this.stores.pg).query('select 1');
        this.#postgresDown = false;
      } catch {
        return;
      }
    }
    if (this.#unrecorded.length > 0) {
      const gaps = this.#unrecorded;
      this.#unrecorded = [];
      await this.#record(gaps);
    }
    if (this.#parked) {
      try {
        await moveMongoGaps(this.stores);
        this.#parked = false;
      } catch {
        // PostgreSQL is still down: the gaps stay in MongoDB, safe, until the next tick.
      }
    }
  }

  #drainQueue(): void {
    this.#scheduled = false;
    const batches = [...this.#queue];
    this.#queue.clear();
    for (const [collection, pending] of batches) {
      const copy = this.#copy(collection, pending.ids, [...pending.operations].join(','));
      this.#inFlight.add(copy);
      void copy.finally(() => this.#inFlight.delete(copy));
    }
  }

  async #copy(
    collection: string,
    ids: readonly unknown[],
    operation: string,
    written?: PromiseLike<boolean>,
  ): Promise<void> {
    // A write that never reached the primary changed nothing: no copy, and no gap.
    const happened = async () => written === undefined || (await written);
    if (this.#postgresDown) {
      if (!(await happened())) return;
      await this.#record(ids.map((id) => ({ collection, id, operation, error: POSTGRES_DOWN })));
      return;
    }
    try {
      const outcome: CopyOutcome = await copyEntitiesToPostgres(this.stores, collection, ids, {
        ...(written !== undefined && { written }),
      });
      this.#copied += outcome.upserted + outcome.deleted + outcome.rejected;
    } catch (error) {
      if (!(await happened())) return;
      const failures =
        error instanceof EntityCopyError
          ? error.failures.map((f) => ({ collection, id: f.id, operation, error: f.error }))
          : ids.map((id) => ({ collection, id, operation, error }));
      if (error instanceof EntityCopyError) {
        const { upserted, deleted, rejected } = error.outcome;
        this.#copied += upserted + deleted + rejected;
      }
      if (postgresUnreachable(error)) this.#postgresDown = true;
      await this.#record(failures);
    }
  }

  async #record(gaps: readonly GapRecord[]): Promise<void> {
    try {
      const where = await recordGaps(this.stores, gaps, { postgresDown: this.#postgresDown });
      if (where === 'mongo') this.#parked = true;
      this.#gaps += gaps.length;
    } catch {
      // Neither store took them: keep them and try again on the next tick.
      this.#unrecorded.push(...gaps);
    }
  }
}
