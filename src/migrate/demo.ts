import { existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import {
  type MarketplaceArchiveOptions,
  writeMarketplaceArchive,
} from '../generate/marketplace/write-marketplace-archive.js';
import { openSource } from '../sources/open.js';
import type { TargetDatabase } from '../target/target-database.js';
import { type MigrateOptions, type MigrateResult, migrate } from './migrate.js';

export interface DemoOptions {
  readonly target: TargetDatabase;
  /** Where the demo keeps its archive, config and migrations (default `.ferry/demo`). */
  readonly dir?: string;
  readonly seed?: number;
  /** Total documents across the six collections (default 20 000). */
  readonly scale?: number;
  readonly signal?: AbortSignal;
  readonly onGenerate?: (file: string) => void;
  readonly onGenerateProgress?: MarketplaceArchiveOptions['onProgress'];
  readonly migrate?: Pick<
    MigrateOptions,
    'onStep' | 'onSchemaPlan' | 'onInferProgress' | 'onBackfillProgress' | 'onVerifyProgress'
  >;
}

export interface DemoResult extends MigrateResult {
  readonly archive: string;
  readonly generated: boolean;
  /** The demo's config (mapping and source), for `--config` in the commands that follow. */
  readonly configFile: string;
}

export const DEMO_SEED = 20240601;
export const DEMO_SCALE = 20_000;

/**
 * `ferry demo`: a realistic escrow marketplace (users, purchase requests with embedded
 * arrays, payments with polymorphic references, a ledger, chats, TTL notifications) from
 * our seeded generator, written as a gzipped mongodump archive by our own writer, then
 * migrated like any user's data. The archive is kept per seed and scale, so a rerun skips
 * generation and shows an idempotent, resumable load.
 *
 * @example
 * const result = await runDemo({ target: await openTarget(undefined) });
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const dir = options.dir ?? path.join('.ferry', 'demo');
  const seed = options.seed ?? DEMO_SEED;
  const scale = options.scale ?? DEMO_SCALE;
  const archive = path.join(dir, `marketplace-${seed}-${scale}.archive.gz`);
  const generated = !existsSync(archive);
  if (generated) {
    await mkdir(dir, { recursive: true });
    options.onGenerate?.(archive);
    // Written under a temporary name and renamed, so an interrupted run never leaves a
    // half-written archive that a rerun would take for a finished one.
    const partial = `${archive}.partial`;
    await writeMarketplaceArchive(partial, {
      seed,
      scale,
      gzip: true,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onGenerateProgress ? { onProgress: options.onGenerateProgress } : {}),
    });
    await rename(partial, archive);
  }
  const configFile = path.join(dir, 'ferry.config.ts');
  // The mapping inferred on the first run is the reviewed one from then on, as for a user.
  const mapping = existsSync(configFile) ? (await loadConfig({ configPath: configFile })).mapping : undefined;
  const source = await openSource(archive);
  try {
    const result = await migrate({
      source,
      sourceLocation: archive,
      target: options.target,
      ...(mapping ? { mapping } : {}),
      configFile,
      migrationsDir: path.join(dir, 'migrations'),
      schemas: ['public'],
      ...(options.signal ? { signal: options.signal } : {}),
      ...options.migrate,
    });
    return { ...result, archive, generated, configFile };
  } finally {
    await source.close();
  }
}
