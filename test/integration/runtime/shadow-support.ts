import type pg from 'pg';
import { type Phase, setPhase } from '../../../src/runtime/domains.js';
import { createRuntime, type Runtime } from '../../../src/runtime/runtime.js';
import type { ShadowConfig } from '../../../src/runtime/shadow/shadow-settings.js';
import { MARKET_COLLECTIONS, type RuntimeWorld } from './support.js';

/** A runtime over the world with every collection in domain `market`, moved to `phase`. */
export async function startShadowRuntime(
  world: RuntimeWorld,
  phase: Phase,
  shadow: ShadowConfig = {},
): Promise<Runtime> {
  const runtime = await createRuntime({
    mongo: world.mongo,
    pg: world.pool,
    config: { mapping: world.plan, domains: { market: { collections: MARKET_COLLECTIONS } }, shadow },
  });
  await moveTo(world, runtime, phase);
  return runtime;
}

/** Move domain `market` to `phase` and make the runtime see it now. */
export async function moveTo(world: RuntimeWorld, runtime: Runtime, phase: Phase): Promise<void> {
  await setPhase(world.pool, 'market', phase, { reason: 'test' });
  await runtime.refresh();
}

/** The shadow-read counts of one collection in `ferry.shadow_reads`, summed over its minutes. */
export async function storedFigures(pool: pg.Pool, collection: string) {
  const { rows } = await pool.query<Record<string, string>>(
    `select coalesce(sum(matched), 0)::text as matched, coalesce(sum(mismatched), 0)::text as mismatched,
            coalesce(sum(timed_out), 0)::text as timed_out, coalesce(sum(failed), 0)::text as failed,
            coalesce((select sum(x) from ferry.shadow_reads s2, unnest(s2.primary_ms) x
                       where s2.domain = 'market' and s2.collection = $1), 0)::text as primary_samples,
            coalesce((select sum(x) from ferry.shadow_reads s2, unnest(s2.candidate_ms) x
                       where s2.domain = 'market' and s2.collection = $1), 0)::text as candidate_samples
       from ferry.shadow_reads where domain = 'market' and collection = $1`,
    [collection],
  );
  const r = rows[0]!;
  return {
    matched: Number(r.matched),
    mismatched: Number(r.mismatched),
    timedOut: Number(r.timed_out),
    failed: Number(r.failed),
    primarySamples: Number(r.primary_samples),
    candidateSamples: Number(r.candidate_samples),
  };
}
