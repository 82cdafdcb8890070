/**
 * The life of one collection's load in one run, as an explicit state machine (after
 * graphile-worker's runtime loops). Each phase says what is true while in it, so a crash in
 * any phase has an obvious recovery: the next run starts again from `checking`.
 *
 * ```
 *   checking ──(complete in every schema)──────────────────────────> up-to-date
 *      │
 *      └──> loading ──(source exhausted)──> completing ──> after-load ──> done
 *             │  ▲  one chunk = one transaction per schema:
 *             └──┘  rows + rejects + checkpoint, committed together
 *
 *   any non-final phase ──(error)──> failed     ──(abort, reject limit)──> stopped
 * ```
 *
 * - `checking`: read the checkpoints, choose `copy` or `upsert` per schema (table-writer.ts).
 *   Nothing written yet.
 * - `loading`: chunks are read, normalised and committed. Every commit moves the checkpoint,
 *   so a crash here loses at most the chunk in flight, which the next run writes again.
 * - `completing`: the source is exhausted; the checkpoints are marked complete.
 * - `after-load`: the collection's secondary indexes and `analyze` (foreign keys to other
 *   collections wait until the whole run is done: backfill.ts).
 * - `done` / `up-to-date` / `failed` / `stopped`: final.
 */
export type CollectionPhase =
  | 'checking'
  | 'loading'
  | 'completing'
  | 'after-load'
  | 'done'
  | 'up-to-date'
  | 'failed'
  | 'stopped'
  | 'dry-run';

/** Phases a collection can move to from each phase; anything else is a bug. */
const NEXT: Readonly<Record<CollectionPhase, readonly CollectionPhase[]>> = {
  checking: ['loading', 'up-to-date', 'failed', 'stopped'],
  loading: ['loading', 'completing', 'failed', 'stopped'],
  completing: ['after-load', 'failed', 'stopped'],
  'after-load': ['done', 'failed', 'stopped'],
  done: [],
  'up-to-date': [],
  failed: [],
  stopped: [],
  'dry-run': [],
};

/** Phases after which nothing more happens to the collection in this run. */
export function isFinal(phase: CollectionPhase): boolean {
  return NEXT[phase].length === 0;
}

/**
 * The phase after `from`, checked against the machine above.
 *
 * @example
 * let phase: CollectionPhase = 'checking';
 * phase = advance(phase, 'loading');   // ok
 * advance('done', 'loading');           // throws: a finished collection does not load again
 */
export function advance(from: CollectionPhase, to: CollectionPhase): CollectionPhase {
  if (!NEXT[from].includes(to)) throw new Error(`collection load: no transition from ${from} to ${to}`);
  return to;
}
