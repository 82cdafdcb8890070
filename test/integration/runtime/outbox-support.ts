import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { registerDomains, setPhase } from '../../../src/runtime/domains.js';
import { targetOf } from '../../../src/runtime/stores.js';
import { ensureFerryState } from '../../../src/target/ferry-state.js';
import { type CliResult, runFerry } from '../../support/cli.js';
import { createRuntimeWorld, MARKET_COLLECTIONS, type RuntimeWorld } from './support.js';

/**
 * The outbox tests' world: the runtime world (the marketplace in FerretDB, backfilled into
 * PostgreSQL, which installs the capture triggers), with every collection in domain `market`
 * moved to `pg_primary`, and a folder holding a ferry.config.ts with the mapping and domain,
 * for the CLI.
 */
export interface OutboxWorld extends RuntimeWorld {
  readonly cwd: string;
  /** Run `ferry <args> --target <world>` in the config's folder. */
  ferry(args: readonly string[], mongoUri?: string): Promise<CliResult>;
}

export async function createOutboxWorld(prefix: string, scale = 120): Promise<OutboxWorld> {
  const world = await createRuntimeWorld(prefix, scale);
  const cwd = await mkdtemp(path.join(tmpdir(), `ferry-outbox-${prefix}-`));
  const domains = { market: { collections: MARKET_COLLECTIONS } };
  await writeFile(
    path.join(cwd, 'ferry.config.ts'),
    `export default ${JSON.stringify({ mapping: world.plan, domains })};\n`,
  );
  const db = targetOf(world.pool);
  await ensureFerryState(db);
  await registerDomains(db, domains);
  await setPhase(world.pool, 'market', 'pg_primary', { reason: 'outbox test: PostgreSQL is the primary' });
  return {
    ...world,
    cwd,
    ferry: (args, mongoUri = world.sourceUri) => {
      const [command, sub] = args;
      // The worker takes MongoDB as its source; the other commands need none.
      const source = command === 'outbox' && sub === 'work' ? ['--source', mongoUri] : [];
      return runFerry([...args, ...source, '--target', world.targetUrl], { cwd });
    },
    close: async () => {
      await world.close();
      await rm(cwd, { recursive: true, force: true });
    },
  };
}

/** Pending and dead events of the world's outbox. */
export async function queueCounts(world: RuntimeWorld): Promise<{ pending: number; dead: number }> {
  const { rows } = await world.pool.query<{ pending: number; dead: number }>(
    `select count(*) filter (where status = 'pending')::int as pending,
            count(*) filter (where status = 'dead')::int as dead from ferry.outbox`,
  );
  return rows[0]!;
}
