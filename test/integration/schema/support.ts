import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PlanInput } from '../../../src/mapping/model.js';

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
