import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LATENCY_BOUNDS_MS } from '../../../src/runtime/latency-histogram.js';
import { type CliResult, runFerry } from '../../support/cli.js';
import { createRuntimeWorld, MARKET_COLLECTIONS, type RuntimeWorld } from './support.js';

/**
 * The cutover tests' world: the runtime world (the marketplace in FerretDB, backfilled into
 * PostgreSQL) with every collection in domain `market`, and a folder whose ferry.config.ts
 * names the live MongoDB as the source, the mapping, the domain and gate limits small enough
 * for a test (20 shadow reads, a 1 s settle time).
 */
export interface CutoverWorld extends RuntimeWorld {
  readonly cwd: string;
  /** Run `ferry <args> --target <world>` in the config's folder. */
  ferry(args: readonly string[]): Promise<CliResult>;
}

export const TEST_LIMITS = { minShadowReads: 20, settleSeconds: 1, lockTimeoutMs: 5000 };

export async function createCutoverWorld(prefix: string, scale = 40): Promise<CutoverWorld> {
  const world = await createRuntimeWorld(prefix, scale);
  const cwd = await mkdtemp(path.join(tmpdir(), `ferry-cutover-${prefix}-`));
  const config = {
    source: world.sourceUri,
    mapping: world.plan,
    domains: { market: { collections: MARKET_COLLECTIONS } },
    cutover: TEST_LIMITS,
  };
  await writeFile(path.join(cwd, 'ferry.config.ts'), `export default ${JSON.stringify(config)};\n`);
  return {
    ...world,
    cwd,
    ferry: (args) => runFerry([...args, '--target', world.targetUrl], { cwd }),
    close: async () => {
      await world.close();
      await rm(cwd, { recursive: true, force: true });
    },
  };
}

/** A histogram (counts per bucket of LATENCY_BOUNDS_MS) with `count` samples of `ms`. */
export function histogramAt(ms: number, count: number): number[] {
  const counts = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  const i = LATENCY_BOUNDS_MS.findIndex((bound) => ms <= bound);
  counts[i === -1 ? LATENCY_BOUNDS_MS.length : i] = count;
  return counts;
}

/** Record a minute of shadow reads of domain `market`, as the shadow reader would. */
export async function recordShadowMinute(
  world: RuntimeWorld,
  figures: { matched: number; mismatched: number; primaryMs: number; candidateMs: number },
): Promise<void> {
  const reads = figures.matched + figures.mismatched;
  await world.pool.query(
    `insert into ferry.shadow_reads (domain, collection, minute, matched, mismatched, primary_ms, candidate_ms)
     values ('market', 'users', date_trunc('minute', now()) - interval '1 minute' * (select count(*) from ferry.shadow_reads), $1, $2, $3, $4)`,
    [
      figures.matched,
      figures.mismatched,
      histogramAt(figures.primaryMs, reads),
      histogramAt(figures.candidateMs, reads),
    ],
  );
}
