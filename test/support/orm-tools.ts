import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { expect, onTestFinished } from 'vitest';
import type { PlanInput } from '../../src/mapping/model.js';
import { runFerry } from './cli.js';
import { createTestDatabase, repoRoot } from './services.js';

/**
 * The ORM tools a team runs on an exported schema, run here as they would run them: the
 * real binaries of the repo's pinned dev dependencies, in the app folder, without a terminal.
 */
export interface ToolResult {
  readonly code: number;
  readonly output: string;
}

function run(
  bin: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<ToolResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [path.join(repoRoot, 'node_modules', bin), ...args],
      {
        cwd,
        env: { ...process.env, NODE_OPTIONS: '', FORCE_COLOR: '0', ...env },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
    child.stdin?.end();
  });
}

/**
 * Make `cwd` resolve packages from the repo's node_modules, as an app folder with
 * drizzle-orm installed would.
 */
export async function linkNodeModules(cwd: string): Promise<void> {
  await symlink(path.join(repoRoot, 'node_modules'), path.join(cwd, 'node_modules'), 'dir');
}

/** `tsc --strict --noEmit` on one file, with the settings of a strict ESM app. */
export async function typecheck(cwd: string, file: string): Promise<ToolResult> {
  const config = {
    compilerOptions: {
      strict: true,
      noUncheckedIndexedAccess: true,
      noEmit: true,
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      // The check is about the exported file, not about the libraries' own declarations.
      skipLibCheck: true,
    },
    files: [file],
  };
  await writeFile(path.join(cwd, 'tsconfig.orm.json'), JSON.stringify(config));
  return run('typescript/bin/tsc', ['-p', 'tsconfig.orm.json'], cwd);
}

/**
 * `drizzle-kit push --strict` of a Drizzle schema file against a live database, as a dry run.
 * drizzle-kit introspects the database, diffs it against the file and prints "No changes
 * detected" when they agree; otherwise it prints the statements it would run and, in strict
 * mode without a terminal, refuses to ask for approval, so nothing is applied.
 */
export function drizzlePush(cwd: string, file: string, url: string, schema: string): Promise<ToolResult> {
  return run(
    'drizzle-kit/bin.cjs',
    [
      'push',
      '--dialect',
      'postgresql',
      '--schema',
      file,
      '--url',
      url,
      '--schemaFilters',
      schema,
      '--strict',
      '--verbose',
    ],
    cwd,
  );
}

/**
 * `prisma validate` on a schema file. Prisma 7's validate runs its bundled WebAssembly
 * validator; only its start-up check for the native schema engine would download one, and
 * PRISMA_SCHEMA_ENGINE_BINARY (never executed by validate) satisfies that check offline.
 */
export function prismaValidate(cwd: string, file: string): Promise<ToolResult> {
  return run('prisma/build/index.js', ['validate', '--schema', file], cwd, {
    PRISMA_SCHEMA_ENGINE_BINARY: '/bin/false',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  });
}

/** `drizzle-kit generate` of a schema file into an empty folder: the SQL that builds what the file describes. */
export async function drizzleGenerate(cwd: string, file: string, out: string): Promise<ToolResult> {
  return run(
    'drizzle-kit/bin.cjs',
    ['generate', '--dialect', 'postgresql', '--schema', file, '--out', out],
    cwd,
  );
}

/** The statements of the migration files `drizzle-kit generate` wrote into `out`, in order. */
export async function generatedStatements(out: string): Promise<string[]> {
  const files = (await readdir(out)).filter((f) => f.endsWith('.sql')).sort();
  const texts = await Promise.all(files.map((f) => readFile(path.join(out, f), 'utf8')));
  return texts
    .flatMap((t) => t.split('--> statement-breakpoint'))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * One schema of a database as PostgreSQL itself spells it: every column with its type and
 * nullability, every constraint (`pg_get_constraintdef`) and every index (`pg_get_indexdef`),
 * one sorted line each. Two databases built differently hold the same schema exactly when
 * their lines are equal, whatever text their DDL was written in.
 */
export async function catalogLines(url: string, schema: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ line: string }>(
      `select format('column %s.%s %s%s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                     case when a.attnotnull then ' not null' else '' end) as line
         from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped
       union all
       select format('constraint %s.%s %s', c.relname, k.conname, pg_get_constraintdef(k.oid))
         from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1
       union all
       select format('index %s', pg_get_indexdef(i.indexrelid))
         from pg_index i join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1`,
      [schema],
    );
    return rows.map((r) => r.line).sort();
  } finally {
    await client.end();
  }
}

/** What drizzle-kit push prints when the file and the database agree. */
export const NO_CHANGES = 'No changes detected';

/** A temporary app folder (removed after the test) with the repo's node_modules and, if given, a config holding `mapping`. */
export async function appWith(mapping: PlanInput | undefined): Promise<string> {
  const cwd = await mkdtemp(path.join(tmpdir(), 'ferry-orm-'));
  // rm removes the node_modules symlink, never what it points at.
  onTestFinished(() => rm(cwd, { recursive: true, force: true }));
  if (mapping !== undefined)
    await writeFile(path.join(cwd, 'ferry.config.ts'), `export default ${JSON.stringify({ mapping })};\n`);
  await linkNodeModules(cwd);
  return cwd;
}

/** Apply the mapping with Ferry's own migrations, export both files, and check them with the ORM tools. */
export async function roundTrip(
  cwd: string,
  url: string,
  schema: string,
): Promise<{ drizzle: string; prisma: string }> {
  const schemaArgs = schema === 'public' ? [] : ['--schema', schema];
  const applied = await runFerry(['schema', 'apply', '--target', url, ...schemaArgs], { cwd });
  expect(applied.code, applied.stderr).toBe(0);
  const exported = await runFerry(
    ['schema', 'export', '--drizzle', 'schema.ts', '--prisma', 'schema.prisma', ...schemaArgs, '--json'],
    { cwd },
  );
  expect(exported.code, exported.stderr).toBe(0);
  expect(JSON.parse(exported.stdout)).toMatchObject({
    schema,
    written: [
      { format: 'drizzle', file: 'schema.ts' },
      { format: 'prisma', file: 'schema.prisma' },
    ],
  });

  const compiled = await typecheck(cwd, 'schema.ts');
  expect(compiled.output).toBe('');
  expect(compiled.code).toBe(0);

  const pushed = await drizzlePush(cwd, './schema.ts', url, schema);
  expect(pushed.output).not.toContain('You are about to execute');
  expect(pushed.output).toContain(NO_CHANGES);

  const drizzle = await readFile(path.join(cwd, 'schema.ts'), 'utf8');
  await expectSameCatalogWhenRebuilt(cwd, url, schema, drizzle);
  const foreignKeys = (drizzle.match(/foreignKey\(\{/g) ?? []).length;
  // Both sides of every foreign key: one() on the table holding it, many() on the other.
  expect(await queryEveryRelation(path.join(cwd, 'schema.ts'), url)).toBe(2 * foreignKeys);

  const validated = await prismaValidate(cwd, 'schema.prisma');
  expect(validated.output).toContain('is valid');
  expect(validated.code).toBe(0);

  return { drizzle, prisma: await readFile(path.join(cwd, 'schema.prisma'), 'utf8') };
}

/**
 * drizzle-kit push compares tables, columns, keys and the columns of indexes, but not the
 * text of CHECKs, index predicates or index expressions (and in a schema other than public,
 * not indexes and CHECKs at all). So the file is also built on its own: `drizzle-kit generate`
 * writes its SQL, which runs in a second, empty database, and both databases must then read
 * the same in PostgreSQL's own spelling of every column, constraint and index.
 */
async function expectSameCatalogWhenRebuilt(cwd: string, url: string, schema: string, drizzle: string) {
  const ferry = await catalogLines(url, schema);
  expect(ferry.length).toBeGreaterThan(0);
  // Drizzle cannot say NULLS NOT DISTINCT on an index; the file says it in a comment instead.
  for (const line of ferry.filter((l) => l.endsWith(' NULLS NOT DISTINCT'))) {
    const name = /^index CREATE UNIQUE INDEX (\S+) /.exec(line)?.[1];
    expect(drizzle).toContain(`Unique index "${name}" is NULLS NOT DISTINCT`);
  }
  const rebuilt = await rebuiltCatalog(cwd, './schema.ts', schema);
  expect(rebuilt).toEqual(ferry.map((l) => l.replace(/ NULLS NOT DISTINCT$/, '')));
}

/** The catalog of a fresh database built only from the SQL `drizzle-kit generate` writes for `file`. */
export async function rebuiltCatalog(cwd: string, file: string, schema: string): Promise<string[]> {
  const out = `drizzle-out-${path.basename(file, '.ts')}`;
  const generated = await drizzleGenerate(cwd, file, out);
  expect(generated.code, generated.output).toBe(0);
  const rebuilt = await createTestDatabase('orm_rebuilt');
  try {
    const client = new pg.Client({ connectionString: rebuilt.url });
    await client.connect();
    try {
      for (const statement of await generatedStatements(path.join(cwd, out))) await client.query(statement);
    } finally {
      await client.end();
    }
    return await catalogLines(rebuilt.url, schema);
  } finally {
    await rebuilt.drop();
  }
}

/**
 * Load an exported Drizzle module into Drizzle's relational query builder and, for every
 * table, query one row together with every relation it declares. Drizzle resolves
 * `relations()` only here (a relation without its other side, or two unnamed relations between
 * the same tables, compiles but throws), so this proves the relations as an app would use them.
 * Returns how many relations were queried.
 */
export async function queryEveryRelation(file: string, url: string): Promise<number> {
  const schema = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    const db = drizzle(pool, { schema });
    const tables: Record<string, { relations: Record<string, unknown> }> = db._.schema ?? {};
    let relations = 0;
    for (const [name, table] of Object.entries(tables)) {
      const withEvery = Object.fromEntries(Object.keys(table.relations).map((r) => [r, true as const]));
      relations += Object.keys(withEvery).length;
      const query = (db.query as Record<string, { findFirst: (config: object) => Promise<unknown> }>)[name];
      if (query === undefined) throw new Error(`no relational query for ${name}`);
      await query.findFirst({ with: withEvery });
    }
    return relations;
  } finally {
    await pool.end();
  }
}
