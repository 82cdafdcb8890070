import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bucketOf, emptyHistogram } from '../../../src/runtime/latency-histogram.js';
import { type CliResult, runFerry, spawnScript } from '../../support/cli.js';
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
  const counts = [...emptyHistogram()];
  counts[bucketOf(ms)] = count;
  return counts;
}

/**
 * Record a minute of shadow reads of domain `market`, as the shadow reader would: the minute
 * before the earliest one recorded, so two calls never collide, not even across a minute's turn.
 */
export async function recordShadowMinute(
  world: RuntimeWorld,
  figures: { matched: number; mismatched: number; primaryMs: number; candidateMs: number },
): Promise<void> {
  const reads = figures.matched + figures.mismatched;
  await world.pool.query(
    `insert into ferry.shadow_reads (domain, collection, minute, matched, mismatched, primary_ms, candidate_ms)
     values ('market', 'users',
             coalesce((select min(minute) from ferry.shadow_reads where domain = 'market' and collection = 'users')
                        - interval '1 minute', date_trunc('minute', now())),
             $1, $2, $3, $4)`,
    [
      figures.matched,
      figures.mismatched,
      histogramAt(figures.primaryMs, reads),
      histogramAt(figures.candidateMs, reads),
    ],
  );
}

/** What an app-writer process did, as it reports on SIGTERM. */
export interface AppWriterReport {
  readonly name: string;
  readonly acknowledged: { readonly mongo: number; readonly pg: number };
  readonly failed: number;
  /** The first failures' code and message. */
  readonly failures: readonly string[];
}

/** An application instance writing through the runtime in its own process (app-writer.ts). */
export interface AppWriter {
  /** Resolves once each of its write loops had a write acknowledged. */
  readonly ready: Promise<void>;
  /** SIGTERM: it stops, lets its writes in flight finish, and reports. */
  stop(): Promise<AppWriterReport>;
}

const APP_WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'app-writer.ts');

/**
 * Start an app-writer process on the cutover world (its ferry.config.ts, the world's target),
 * writing the `users` from `users.first` on, `users.count` of them (writers must not share a
 * user: see app-writer.ts); `logTable` makes it log every write's store with PostgreSQL's clock.
 */
export function startAppWriter(
  world: CutoverWorld,
  name: string,
  users: { readonly first: number; readonly count: number },
  logTable?: string,
): AppWriter {
  const child = spawnScript(APP_WRITER, [], world.cwd, {
    pipe: true,
    env: {
      DATABASE_URL: world.targetUrl,
      FERRY_APP_NAME: name,
      FERRY_APP_USERS: `${users.first}:${users.count}`,
      ...(logTable !== undefined && { FERRY_APP_LOG_TABLE: logTable }),
    },
  });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.startsWith('ready\n')) resolve();
    });
    void exited.then((code) =>
      reject(new Error(`${name} exited ${code} before it was ready: ${stderr.slice(-2000)}`)),
    );
  });
  ready.catch(() => {});
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return {
    ready,
    stop: async () => {
      child.kill('SIGTERM');
      const code = await exited;
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{'))
        throw new Error(`${name} exited ${code}: ${stderr.slice(-2000)}`);
      return JSON.parse(last) as AppWriterReport;
    },
  };
}
