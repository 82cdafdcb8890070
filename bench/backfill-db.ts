import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Plan } from '../src/mapping/model.js';
import { buildSchema } from '../src/schema/build-schema.js';
import { ddlPhases } from '../src/schema/phases.js';
import { renderSql } from '../src/schema/statements.js';
import { repoRoot } from './harness.js';

/** The target schema every backfill case loads into. */
export const BENCH_SCHEMA = 'bench';

/**
 * The PostgreSQL admin URL: FERRY_BENCH_PG_ADMIN_URL, else the one `scripts/services.sh start`
 * wrote to .services/env for the tests (the same server the integration tests use).
 */
export function adminUrl(): string {
  return serviceUrl('FERRY_TEST_PG_ADMIN_URL', 'FERRY_BENCH_PG_ADMIN_URL');
}

/**
 * A service URL: the `override` variable, else `key` from the .services/env that
 * `scripts/services.sh start` wrote for the tests.
 *
 * @example
 * serviceUrl('FERRY_TEST_MONGO_URL', 'FERRY_BENCH_MONGO_URL')   // 'mongodb://127.0.0.1:…/'
 */
export function serviceUrl(key: string, override: string): string {
  const given = process.env[override];
  if (given) return given;
  const file = path.join(repoRoot, '.services/env');
  const line = existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .find((l) => l.startsWith(`${key}=`))
    : undefined;
  if (!line) throw new Error(`no ${key}: run \`bash scripts/services.sh start\` or set ${override}`);
  return line.slice(line.indexOf('=') + 1).trim();
}

/** Inside a case's process: the database its parent created for it. */
export function targetUrl(): string {
  const url = process.env.FERRY_BENCH_TARGET_URL;
  if (!url) throw new Error('FERRY_BENCH_TARGET_URL is not set; run the case through `npm run bench`');
  return url;
}

/**
 * A fresh database for one case with the plan's before-load DDL applied (schema, tables,
 * primary keys, checks), so every case starts from the same empty
 * tables and none is timed creating them. `drop()` removes it.
 */
export async function freshDatabase(
  label: string,
  plan: Plan,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = adminUrl();
  const name = `bench_${label.replace(/\W/g, '_').toLowerCase()}_${process.pid}`;
  await withClient(admin, async (c) => {
    await c.query(`drop database if exists "${name}" with (force)`);
    await c.query(`create database "${name}"`);
  });
  const url = new URL(admin);
  url.pathname = `/${name}`;
  await withClient(url.toString(), (c) =>
    c.query(renderSql(ddlPhases(buildSchema(plan)).beforeLoad, target())),
  );
  return {
    url: url.toString(),
    drop: async () => {
      await withClient(admin, (c) => c.query(`drop database if exists "${name}" with (force)`));
    },
  };
}

/**
 * The after-load DDL Ferry's backfill runs at the end (every foreign key, child tables' keys to their parents included, secondary
 * indexes, analyze), for the other cases to run too, timed, so all three finish with the
 * same database.
 */
export function afterLoadSql(plan: Plan): string {
  return renderSql(ddlPhases(buildSchema(plan)).afterLoad, target());
}

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function target() {
  return { kind: 'schema', name: BENCH_SCHEMA } as const;
}
