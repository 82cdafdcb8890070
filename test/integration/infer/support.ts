import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Document } from 'bson';
import { ESCROW_COLLECTIONS, type EscrowCollection, generateEscrow } from '../../../src/generate/index.js';
import type { InferenceReport } from '../../../src/infer/report.js';
import type { Plan } from '../../../src/mapping/model.js';
import { runFerry } from '../../support/cli.js';
import { repoRoot } from '../../support/services.js';
import { seedClient, uniqueDatabase, withDatabase } from '../sources/mongodb-helpers.js';

/** The escrow example's models, as a user passes them to `--models`. */
export const ESCROW_MODELS = path.join(repoRoot, 'examples/escrow/models');

/** Small model sets for the bad cases, in test/fixtures/models/. */
export function fixtureModels(name: string): string {
  return path.join(repoRoot, 'test/fixtures/models', name);
}

/**
 * A FerretDB database holding the given documents, written with the plain driver: no index is
 * created, so whatever the models add (TTL, unique) can only come from the models.
 */
export async function seedFerret(
  server: string,
  prefix: string,
  collections: Readonly<Record<string, readonly Document[]>>,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const database = uniqueDatabase(prefix);
  const client = seedClient(server);
  try {
    for (const [name, docs] of Object.entries(collections))
      if (docs.length > 0)
        await client
          .db(database)
          .collection(name)
          .insertMany(docs.map((d) => ({ ...d })));
  } finally {
    await client.close();
  }
  return {
    url: withDatabase(server, database),
    drop: async () => {
      const c = seedClient(server);
      await c.db(database).dropDatabase();
      await c.close();
    },
  };
}

/** The escrow collections, or only some of them. */
export function escrowDocuments(
  seed: number,
  only: readonly EscrowCollection[] = ESCROW_COLLECTIONS,
): Record<string, readonly Document[]> {
  const data = generateEscrow(seed, { users: 30 });
  return Object.fromEntries(only.map((name) => [name, data[name]]));
}

export interface InferOutput {
  readonly code: number;
  readonly stderr: string;
  readonly plan: Plan;
  readonly report: InferenceReport;
}

/** `ferry infer --json` in `cwd`, writing `out`; the plan and report it printed. */
export async function infer(
  cwd: string,
  source: string,
  out: string,
  extra: readonly string[] = [],
): Promise<InferOutput> {
  const result = await runFerry(['--json', 'infer', source, '-o', out, ...extra], { cwd });
  if (result.code !== 0)
    return { code: result.code, stderr: result.stderr, plan: undefined!, report: undefined! };
  const parsed = JSON.parse(result.stdout) as { plan: Plan; report: InferenceReport };
  return { code: result.code, stderr: result.stderr, plan: parsed.plan, report: parsed.report };
}

export async function temporaryFolder(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
