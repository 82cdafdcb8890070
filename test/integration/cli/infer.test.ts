import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFerry } from '../../support/cli.js';
import { datasetPath } from '../../support/services.js';

const archive = datasetPath('sample_supplies.archive.gz');

describe.runIf(archive)('ferry infer', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-infer-cli-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes ferry.config.ts and prints the report of decisions', async () => {
    const result = await runFerry(['infer', archive!], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/sales: 5000 document\(s\) → 2 table\(s\)/);
    expect(result.stdout).toMatch(/price +numeric +not null +← items\.\[\]\.price/);
    const config = await readFile(path.join(dir, 'ferry.config.ts'), 'utf8');
    expect(config).toContain("import { defineConfig } from 'ferry';");
    expect(config).toContain(
      "{ name: 'tags', path: ['tags'], pgType: 'text[]', sourceType: 'string', nullable: false },",
    );
  });

  it('refuses to overwrite an existing config without --force, before reading the source', async () => {
    const result = await runFerry(['infer', archive!], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/already exists; not overwriting it.*--force/s);
  });

  it('checks the written mapping against the data with --check and finds it sound', async () => {
    const result = await runFerry(['infer', archive!, '--check'], { cwd: dir });
    expect(result.stderr).not.toMatch(/ferry:/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/holds every value seen in the source/);
  });

  it('refuses a hand-edited mapping that would lose data, with the path in the config and the reason', async () => {
    const file = path.join(dir, 'ferry.config.ts');
    const original = await readFile(file, 'utf8');
    await writeFile(
      file,
      original.replace(
        "pgType: 'numeric', sourceType: 'decimal'",
        "pgType: 'numeric(6,1)', sourceType: 'decimal'",
      ),
    );
    const result = await runFerry(['--json', 'infer', archive!, '--check'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({
      ok: false,
      problems: [
        {
          path: 'mapping.collections[0].tables[1].columns[1].pgType',
          reason: expect.stringContaining('values with scale 2 do not fit numeric(6,1)'),
        },
      ],
      warnings: [],
    });
    await writeFile(file, original);
  });

  it('refuses an unknown type name before opening the source', async () => {
    const file = path.join(dir, 'ferry.config.ts');
    const original = await readFile(file, 'utf8');
    await writeFile(file, original.replace("pgType: 'integer'", "pgType: 'int4'"));
    const result = await runFerry(['infer', '/nonexistent/source.json', '--check'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(
      /mapping\.collections\[0\]\.tables\[0\]\.columns\[2\]\.pgType: unknown PostgreSQL type "int4"/,
    );
    await writeFile(file, original);
  });

  it('refuses an invalid config file with exit code 2 and writes nothing', async () => {
    const other = await mkdtemp(path.join(tmpdir(), 'ferry-infer-bad-'));
    try {
      await writeFile(
        path.join(other, 'ferry.config.ts'),
        "export default { source: 'x', colour: 'blue' };\n",
      );
      const result = await runFerry(['infer', archive!, '--force', '-o', 'out.config.ts'], { cwd: other });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/colour/);
      await expect(readFile(path.join(other, 'out.config.ts'), 'utf8')).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('prints { plan, report } with --json, analyses a sample when asked, and overwrites with --force', async () => {
    const result = await runFerry(['--json', 'infer', archive!, '--sample', '100', '--force'], { cwd: dir });
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(output.plan.collections[0].tables.map((t: { name: string }) => t.name)).toEqual([
      'sales',
      'sales_items',
    ]);
    expect(output.report.collections[0]).toMatchObject({ name: 'sales', documents: 100, complete: false });
    expect(output.report.warnings).toContainEqual(expect.objectContaining({ code: 'SAMPLED' }));
    // A sample cannot prove a field is always there, so nothing but the id is NOT NULL.
    expect(
      output.plan.collections[0].tables[0].columns.filter((c: { nullable: boolean }) => !c.nullable),
    ).toHaveLength(1);
  });

  it('rejects --sample together with --full as bad usage', async () => {
    const result = await runFerry(['infer', archive!, '--sample', '10', '--full', '-o', 'x.ts'], {
      cwd: dir,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/contradict/);
  });
});
