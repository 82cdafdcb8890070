import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Plan, PlanInput } from '../../../src/mapping/model.js';
import { buildSchema } from '../../../src/schema/build-schema.js';
import { ddlPhases } from '../../../src/schema/phases.js';
import { compileStatement } from '../../../src/schema/statements.js';
import { openTarget } from '../../../src/target/open-target.js';
import type { TargetDatabase } from '../../../src/target/target-database.js';
import { createTestDatabase } from '../../support/services.js';

/** A temporary app folder holding a `ferry.config.ts` with `mapping`, as a user would have. */
export async function appFolder(mapping: PlanInput | undefined): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ferry-schema-'));
  await writeConfig(dir, mapping);
  return dir;
}

/** Rewrite the app's config with another mapping (the user edited it). */
export async function writeConfig(dir: string, mapping: PlanInput | undefined): Promise<void> {
  const body = mapping === undefined ? '{}' : JSON.stringify({ mapping }, null, 2);
  await writeFile(path.join(dir, 'ferry.config.ts'), `export default ${body};\n`);
}

/**
 * A fresh database holding the plan's tables and indexes in schema `public`, made from the
 * DDL statements directly (no migration files), for tests of what the DDL does.
 */
export async function databaseWithSchema(
  prefix: string,
  plan: Plan,
): Promise<{ db: TargetDatabase; drop: () => Promise<void> }> {
  const created = await createTestDatabase(prefix);
  const db = await openTarget(created.url);
  const { beforeLoad, afterLoad } = ddlPhases(buildSchema(plan));
  for (const statement of [...beforeLoad, ...afterLoad]) {
    await db.query(compileStatement(statement, { kind: 'schema', name: 'public' }));
  }
  return { db, drop: created.drop };
}
