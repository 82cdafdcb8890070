import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFerry } from '../../support/cli.js';
import { createTestDatabase, postgresUrl } from '../../support/services.js';
import { customers, orders, planInput, writeSource } from '../load/support.js';

interface ProgressLine {
  type: string;
  collection: string;
  phase: string;
  done: number;
  final: boolean;
}

/** Every stderr line that looks like JSON is a whole JSON object; the progress ones, parsed. */
function progressLines(stderr: string): ProgressLine[] {
  const json = stderr.split('\n').filter((l) => l.includes('{'));
  for (const line of json) expect(() => JSON.parse(line), line).not.toThrow();
  return json.map((l) => JSON.parse(l) as ProgressLine).filter((l) => l.type === 'progress');
}

/**
 * Issue 11: off a terminal, progress is JSON lines, each whole; deep verify counts each
 * source document once (it used to add the target's rows, showing twice the collection under
 * a "(hash)" label); with --json, stderr carries no progress at all.
 */
describe.skipIf(!postgresUrl())('progress as JSON lines', () => {
  let url: string;
  let drop: () => Promise<void>;
  let cwd: string;
  const ferry = (...args: string[]) => runFerry([...args, '--target', url], { cwd });

  beforeAll(async () => {
    ({ url, drop } = await createTestDatabase('progress_lines'));
    cwd = await writeSource({ customers: customers(10), orders: orders(3000) });
    await writeFile(
      path.join(cwd, 'ferry.config.ts'),
      `export default ${JSON.stringify({ source: cwd, mapping: planInput })};\n`,
    );
    const load = await ferry('backfill');
    expect(load.code, load.stderr).toBe(0);
  });
  afterAll(async () => {
    await drop?.();
  });

  it('verify reports each source document once, under the verify phase, ending at the collection size', async () => {
    const result = await ferry('verify');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const lines = progressLines(result.stderr);
    const orderLines = lines.filter((l) => l.collection === 'orders');
    expect(orderLines.length).toBeGreaterThan(0);
    expect(orderLines.every((l) => l.phase === 'verify')).toBe(true);
    expect(Math.max(...orderLines.map((l) => l.done))).toBe(3000);
    expect(orderLines.filter((l) => l.final).map((l) => l.done)).toEqual([3000]);
    expect(result.stderr).not.toContain('(hash)');
  });

  it('writes no progress to stderr with --json', async () => {
    const result = await ferry('verify', '--json');
    expect(result.code).toBe(0);
    expect(progressLines(result.stderr)).toEqual([]);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true });
  });
});
