import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inferMapping } from '../src/infer/infer-mapping.js';
import { openSource } from '../src/sources/open.js';

/** The plan inferred from `location`, written to `file` once and reused by later runs. */
export async function inferPlanFile(location: string, file: string): Promise<string> {
  if (existsSync(file)) return file;
  await mkdir(path.dirname(file), { recursive: true });
  const source = await openSource(location);
  try {
    await writeFile(file, JSON.stringify((await inferMapping(source)).plan));
  } finally {
    await source.close();
  }
  return file;
}
