import type pg from 'pg';
import { idText } from '../../load/reject-record.js';
import { emptyHistogram, type LatencyHistogram, mergeHistograms, record } from '../latency-histogram.js';
import { cleanValues } from './clean-values.js';
import type { ShadowDifference } from './compare-results.js';
import type { ShadowSettings } from './shadow-settings.js';

/**
 * The outcome of one shadowed read: the candidate answered the same (`matched`), differently
 * (`mismatched`, after its rechecks), not within its timeout (`timed_out`), or with an error
 * (`failed`).
 *
 * @example
 * const outcome: ShadowOutcome = 'timed_out';
 */
export type ShadowOutcome = 'matched' | 'mismatched' | 'timed_out' | 'failed';

/**
 * The figures of one domain and collection: the outcome counts and both sides' latency
 * histograms (bucket bounds in `LATENCY_BOUNDS_MS`).
 *
 * @example
 * declare const runtime: Runtime;
 * const money = runtime.shadowStats.find((s) => s.domain === 'money');
 * console.log(money?.matched, money?.mismatched);
 */
export interface ShadowCounts {
  readonly domain: string;
  readonly collection: string;
  readonly matched: number;
  readonly mismatched: number;
  readonly timedOut: number;
  readonly failed: number;
  readonly primaryMs: LatencyHistogram;
  readonly candidateMs: LatencyHistogram;
}

interface Bucket {
  matched: number;
  mismatched: number;
  timedOut: number;
  failed: number;
  primaryMs: LatencyHistogram;
  candidateMs: LatencyHistogram;
}

interface PendingMismatch {
  readonly domain: string;
  readonly collection: string;
  readonly difference: ShadowDifference;
}

const MINUTE_MS = 60_000;

/**
 * Keeps shadow-read figures in memory and adds them to `ferry.shadow_reads` (one row per
 * domain, collection and minute, which many app instances add to) every `flushIntervalMs` and
 * on `stop()`; stores mismatches in `ferry.shadow_mismatches`, keeping the newest
 * `mismatchCap` per domain. A flush that fails keeps its figures for the next one: nothing
 * here ever throws into the request path, and PostgreSQL being down costs only memory (the
 * buffered mismatches are capped like the table).
 */
export class ShadowRecorder {
  /** Not yet flushed, by `domain \0 collection \0 minute`. */
  #pending = new Map<string, Bucket>();
  #mismatches: PendingMismatch[] = [];
  /** Since start, for `runtime.shadowStats`. */
  #totals = new Map<string, Bucket>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: pg.Pool,
    private readonly settings: ShadowSettings,
  ) {}

  start(): void {
    this.#timer = setInterval(() => void this.flush(), this.settings.flushIntervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }

  /** Count one shadowed read; `candidateMs` is how long the candidate ran (to its timeout, if it hit it). */
  record(domain: string, collection: string, outcome: ShadowOutcome, primaryMs: number, candidateMs: number) {
    const minute = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
    for (const [map, key] of [
      [this.#pending, `${domain}\0${collection}\0${minute}`],
      [this.#totals, `${domain}\0${collection}`],
    ] as const) {
      const bucket = map.get(key) ?? newBucket();
      map.set(key, bucket);
      if (outcome === 'timed_out') bucket.timedOut++;
      else bucket[outcome]++;
      bucket.primaryMs = record(bucket.primaryMs, primaryMs);
      bucket.candidateMs = record(bucket.candidateMs, candidateMs);
    }
  }

  /** Keep a mismatch for the next flush (the newest `mismatchCap` per domain at most). */
  mismatch(domain: string, collection: string, difference: ShadowDifference): void {
    if (this.settings.mismatchCap === 0) return;
    this.#mismatches.push({ domain, collection, difference });
    const ofDomain = this.#mismatches.filter((m) => m.domain === domain);
    if (ofDomain.length > this.settings.mismatchCap) {
      const oldest = ofDomain[0];
      this.#mismatches = this.#mismatches.filter((m) => m !== oldest);
    }
  }

  /** The figures since the runtime started, per domain and collection. */
  get totals(): ShadowCounts[] {
    return [...this.#totals].map(([key, b]) => {
      const [domain, collection] = key.split('\0') as [string, string];
      return { domain, collection, ...b };
    });
  }

  /** Write what is pending; one flush at a time, and a failure keeps the figures for the next. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#flushOnce());
    return this.#flushing;
  }

  async #flushOnce(): Promise<void> {
    const mismatches = this.#mismatches;
    this.#mismatches = [];
    if (mismatches.length > 0) {
      try {
        await this.#storeMismatches(mismatches);
      } catch {
        // PostgreSQL is unreachable: keep them for the next flush, the newest if there are many.
        this.#mismatches = [...mismatches, ...this.#mismatches].slice(-this.settings.mismatchCap);
      }
    }
    const pending = this.#pending;
    this.#pending = new Map();
    for (const [key, bucket] of pending) {
      try {
        await this.#addCounts(key, bucket);
      } catch {
        const now = this.#pending.get(key);
        this.#pending.set(key, now === undefined ? bucket : addBuckets(now, bucket));
      }
    }
  }

  async #addCounts(key: string, b: Bucket): Promise<void> {
    const [domain, collection, minute] = key.split('\0') as [string, string, string];
    const sum = (column: string) =>
      `array(select coalesce(a, 0) + coalesce(b, 0)
               from unnest(s.${column}, excluded.${column}) with ordinality as u(a, b, i) order by i)`;
    await this.pool.query(
      `insert into ferry.shadow_reads as s
              (domain, collection, minute, matched, mismatched, timed_out, failed, primary_ms, candidate_ms)
       values ($1, $2, $3, $4, $5, $6, $7, $8::bigint[], $9::bigint[])
       on conflict (domain, collection, minute) do update
          set matched = s.matched + excluded.matched,
              mismatched = s.mismatched + excluded.mismatched,
              timed_out = s.timed_out + excluded.timed_out,
              failed = s.failed + excluded.failed,
              primary_ms = ${sum('primary_ms')},
              candidate_ms = ${sum('candidate_ms')}`,
      [
        domain,
        collection,
        new Date(Number(minute)),
        b.matched,
        b.mismatched,
        b.timedOut,
        b.failed,
        [...b.primaryMs],
        [...b.candidateMs],
      ],
    );
  }

  async #storeMismatches(mismatches: readonly PendingMismatch[]): Promise<void> {
    const limits = { maxStringLength: this.settings.maxValueLength, maxArrayLength: 20 };
    const rows = mismatches.map((m) => ({
      domain: m.domain,
      collection: m.collection,
      doc_id: m.difference.docId === undefined ? null : idText(m.difference.docId),
      paths: m.difference.paths,
      primary_value: cleanValues(m.difference.primary, limits),
      candidate_value: cleanValues(m.difference.candidate, limits),
    }));
    await this.pool.query(
      `insert into ferry.shadow_mismatches (domain, collection, doc_id, paths, primary_value, candidate_value)
       select r.domain, r.collection, r.doc_id,
              array(select jsonb_array_elements_text(r.paths)), r.primary_value, r.candidate_value
         from jsonb_to_recordset($1::jsonb)
           as r(domain text, collection text, doc_id text, paths jsonb, primary_value jsonb, candidate_value jsonb)`,
      [JSON.stringify(rows)],
    );
    // Keep the newest `mismatchCap` of each domain written to.
    for (const domain of new Set(mismatches.map((m) => m.domain)))
      await this.pool.query(
        `delete from ferry.shadow_mismatches
          where domain = $1
            and id <= (select id from ferry.shadow_mismatches where domain = $1
                        order by id desc offset $2 limit 1)`,
        [domain, this.settings.mismatchCap],
      );
  }
}

function newBucket(): Bucket {
  return {
    matched: 0,
    mismatched: 0,
    timedOut: 0,
    failed: 0,
    primaryMs: emptyHistogram(),
    candidateMs: emptyHistogram(),
  };
}

function addBuckets(a: Bucket, b: Bucket): Bucket {
  return {
    matched: a.matched + b.matched,
    mismatched: a.mismatched + b.mismatched,
    timedOut: a.timedOut + b.timedOut,
    failed: a.failed + b.failed,
    primaryMs: mergeHistograms([a.primaryMs, b.primaryMs]),
    candidateMs: mergeHistograms([a.candidateMs, b.candidateMs]),
  };
}
