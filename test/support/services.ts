import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/**
 * Where tests find real services and datasets. A missing one fails the test file in CI
 * (CI=true), because a green CI that silently skipped is a lie; elsewhere it skips with a
 * visible message, so a developer without FerretDB can still run the rest.
 */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const datasetsDir = path.resolve(repoRoot, '../shared/datasets');

function readServiceEnv(): Record<string, string> {
  const file = path.join(repoRoot, '.services/env');
  if (!existsSync(file)) return {};
  const entries = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.match(/^([A-Z0-9_]+)=(.*)$/))
    .filter((match): match is RegExpMatchArray => match !== null)
    .map((match) => [match[1]!, match[2]!] as const);
  return Object.fromEntries(entries);
}

const serviceEnv = { ...readServiceEnv(), ...pickEnv(process.env) };

function pickEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(([k, v]) => k.startsWith('FERRY_TEST_') && v),
  ) as Record<string, string>;
}

function missing(what: string, why: string): undefined {
  const message = `${what} is not available: ${why}`;
  if (process.env.CI === 'true')
    throw new Error(`${message} (CI requires it; run scripts/services.sh start)`);
  console.warn(`\n⚠ SKIPPING: ${message}\n`);
  return undefined;
}

/** The test PostgreSQL URL, or undefined (with a loud skip message) when services are not started. */
export function postgresUrl(): string | undefined {
  return (
    serviceEnv.FERRY_TEST_PG_URL ??
    missing('PostgreSQL', 'no FERRY_TEST_PG_URL; run `npm run services:start`')
  );
}

/** The FerretDB URL, or undefined. If FerretDB could not be built, the reason is in the message. */
export function mongoUrl(): string | undefined {
  if (serviceEnv.FERRY_TEST_MONGO_URL) return serviceEnv.FERRY_TEST_MONGO_URL;
  const reason =
    serviceEnv.FERRY_FERRETDB_UNAVAILABLE ?? 'no FERRY_TEST_MONGO_URL; run `npm run services:start`';
  // A FerretDB that truly cannot be built here is an environment fact, not a CI failure.
  if (serviceEnv.FERRY_FERRETDB_UNAVAILABLE) {
    console.warn(`\n⚠ SKIPPING live MongoDB tests: ${reason}\n`);
    return undefined;
  }
  return missing('FerretDB', reason);
}

/** Absolute path of a file in ../shared/datasets, or undefined (with a loud skip message). */
export function datasetPath(relative: string): string | undefined {
  const file = path.join(datasetsDir, relative);
  return existsSync(file) ? file : missing(`dataset ${relative}`, `${file} does not exist`);
}

/**
 * A fresh, empty PostgreSQL database for one test file, dropped by the returned `drop()`.
 * Each file gets its own so files can run in parallel without seeing each other's tables.
 */
export async function createTestDatabase(
  prefix: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = postgresUrl();
  if (!base) throw new Error('createTestDatabase needs PostgreSQL; guard the suite with postgresUrl()');
  // Random, not a clock: two databases made in the same millisecond must still differ.
  const name = `t_${prefix.replace(/\W/g, '_').toLowerCase().slice(0, 30)}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      await client.query(`drop database if exists "${name}" with (force)`);
      await client.end();
    },
  };
}
