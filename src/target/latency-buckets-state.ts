import type { StateMigration } from './ferry-state.js';

/**
 * State step 20: finer latency buckets (src/runtime/latency-histogram.ts), 4 per doubling instead of 1, so
 * the p95 gate no longer reads 2 whenever the two p95s straddle a power of two. Old bound j
 * is new bound 4j (same value), so old count j moves to new count 4j and the open bucket
 * moves from 18 to 66 (1-based): every percentile reads back the same value as before.
 * Only arrays in the old layout (1 to 18 counts) move: '{}' already reads as zeros, and a
 * moved one (66) stays. The sizes are literal, not LATENCY_BOUNDS_MS, because a released step
 * must not change if the layout ever changes again.
 * App instances still running an older Ferry during a rolling upgrade keep adding 18 counts,
 * and their upsert sums arrays position by position, which would file them under the wrong
 * bounds; the trigger moves an incoming row to the new layout before it is inserted or (as
 * `excluded`) added, so their counts land where they belong.
 *
 * @example
 * // ensureFerryState applies it in order with the other steps:
 * const { version, name } = LATENCY_BUCKETS_STEP;   // 20, 'quarter-doubling latency buckets'
 */
export const LATENCY_BUCKETS_STEP: StateMigration = {
  version: 20,
  name: 'quarter-doubling latency buckets',
  sql: `do $step$
begin
create or replace function ferry.latency_counts_from_doubling(counts bigint[]) returns bigint[]
language sql immutable as $f$
  select case when cardinality(counts) between 1 and 18 then array(
           select coalesce(case when i = 66 then counts[18] when i % 4 = 1 then counts[i / 4 + 1] end, 0)
             from generate_series(1, 66) as i order by i)
         else counts end
$f$;
update ferry.shadow_reads
   set primary_ms = ferry.latency_counts_from_doubling(primary_ms),
       candidate_ms = ferry.latency_counts_from_doubling(candidate_ms)
 where cardinality(primary_ms) between 1 and 18 or cardinality(candidate_ms) between 1 and 18;
create or replace function ferry.shadow_reads_from_doubling() returns trigger language plpgsql as $f$
begin
  new.primary_ms := ferry.latency_counts_from_doubling(new.primary_ms);
  new.candidate_ms := ferry.latency_counts_from_doubling(new.candidate_ms);
  return new;
end
$f$;
drop trigger if exists shadow_reads_from_doubling on ferry.shadow_reads;
create trigger shadow_reads_from_doubling before insert on ferry.shadow_reads
  for each row execute function ferry.shadow_reads_from_doubling();
end
$step$`,
};
