import type { Queryable } from '../../target/target-database.js';
import { LATENCY_BOUNDS_MS, type LatencyHistogram, mergeHistograms } from '../latency-histogram.js';
import type { ShadowFigures } from '../status-snapshot.js';

/**
 * The shadow-read figures of every collection, summed over all the minutes `ferry.shadow_reads`
 * holds (the table must exist): the outcome counts, both sides' histograms, and PostgreSQL's
 * latency as Prometheus-style cumulative buckets. The table keeps counts per bucket only, so
 * `sumSeconds` is estimated from the buckets' upper bounds (an overestimate, as the
 * percentiles read from the same buckets are).
 *
 * @example
 * declare const db: Queryable;
 * for (const s of await shadowFigures(db)) console.log(s.collection, s.matched, s.mismatched);
 */
export async function shadowFigures(db: Queryable): Promise<ShadowFigures[]> {
  const { rows: counts } = await db.query<Record<string, string>>(
    `select collection, sum(matched)::text as matched, sum(mismatched)::text as mismatched,
            sum(timed_out)::text as timed_out, sum(failed)::text as failed
       from ferry.shadow_reads group by collection order by collection`,
  );
  const { rows: buckets } = await db.query<{ collection: string; side: string; i: string; n: string }>(
    `select collection, side, i::text, sum(n)::text as n
       from ferry.shadow_reads,
            lateral (select 'primary' as side, n, i from unnest(primary_ms) with ordinality as p(n, i)
                     union all
                     select 'candidate', n, i from unnest(candidate_ms) with ordinality as c(n, i)) as b
      group by collection, side, i`,
  );
  const histogram = (collection: string, side: string): LatencyHistogram => {
    const h: number[] = [];
    for (const b of buckets)
      if (b.collection === collection && b.side === side) h[Number(b.i) - 1] = Number(b.n);
    return mergeHistograms([Array.from(h, (n) => n ?? 0)]);
  };
  return counts.map((r) => {
    const primaryMs = histogram(String(r.collection), 'primary');
    const candidateMs = histogram(String(r.collection), 'candidate');
    return {
      collection: String(r.collection),
      matched: Number(r.matched),
      mismatched: Number(r.mismatched),
      timedOut: Number(r.timed_out),
      failed: Number(r.failed),
      primaryMs,
      candidateMs,
      latency: cumulativeSeconds(candidateMs),
    };
  });
}

/** A histogram as Prometheus counts it: cumulative per upper bound (`le`), in seconds. */
function cumulativeSeconds(histogram: LatencyHistogram): NonNullable<ShadowFigures['latency']> {
  let seen = 0;
  let sumMs = 0;
  const buckets = LATENCY_BOUNDS_MS.map((bound, i) => {
    const n = Number(histogram[i] ?? 0);
    seen += n;
    sumMs += n * bound;
    return { le: bound / 1000, count: seen };
  });
  const above = Number(histogram[LATENCY_BOUNDS_MS.length] ?? 0);
  sumMs += above * 2 * LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]!;
  return { buckets, sumSeconds: sumMs / 1000, count: seen + above };
}
