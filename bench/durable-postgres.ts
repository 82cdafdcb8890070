import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { withClient } from './backfill-db.js';

const run = promisify(execFile);

/** The settings that make a commit durable: PostgreSQL's defaults, spelled out. */
export const DURABLE_SETTINGS = { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' } as const;

/**
 * A throwaway PostgreSQL 15 cluster that commits durably (`DURABLE_SETTINGS`: every commit
 * waits for its WAL flush), unlike the test cluster of scripts/services.sh, which runs with
 * `fsync=off, full_page_writes=off` for speed. Started the way services.sh starts its cluster
 * (the same binaries, as the `postgres` user when run as root), in a temp folder on a free
 * loopback port; `stop()` stops it and removes the folder.
 */
export interface DurablePostgres {
  /** `postgres://…/<database>` of an empty database in the cluster. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Start a durable cluster with one empty database.
 *
 * @example
 * const durable = await startDurablePostgres('outbox');
 * try { … } finally { await durable.stop(); }
 */
export async function startDurablePostgres(database: string): Promise<DurablePostgres> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ferry-bench-durable-'));
  const data = path.join(dir, 'data');
  const password = randomBytes(18).toString('base64url');
  await writeFile(path.join(dir, 'password'), password);
  const asRoot = process.getuid?.() === 0;
  // PostgreSQL refuses to run as root: the cluster belongs to `postgres`, as in services.sh.
  const asPostgres = (bin: string, args: readonly string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', pgBin(bin), ...args]) : run(pgBin(bin), [...args]);
  if (asRoot) {
    await chmod(dir, 0o700);
    await run('chown', ['-R', 'postgres', dir]);
  }
  let started = false;
  try {
    await asPostgres('initdb', [
      '-D',
      data,
      '-U',
      'ferry',
      `--pwfile=${path.join(dir, 'password')}`,
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
    ]);
    const port = await freePort();
    const settings = Object.entries(DURABLE_SETTINGS)
      .map(([name, value]) => `-c ${name}=${value}`)
      .join(' ');
    await asPostgres('pg_ctl', [
      '-D',
      data,
      '-l',
      path.join(dir, 'server.log'),
      '-w',
      '-t',
      '60',
      'start',
      '-o',
      `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} ${settings}`,
    ]);
    started = true;
    const admin = `postgres://ferry:${password}@127.0.0.1:${port}/postgres`;
    await withClient(admin, (c) => c.query(`create database "${database}"`));
    return {
      url: Object.assign(new URL(admin), { pathname: `/${database}` }).toString(),
      stop: async () => {
        await asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => {});
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (started) await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Copy schemas (tables, rows, functions, triggers) from one database to another with
 * pg_dump and pg_restore; passwords go through the environment, never the command line.
 *
 * @example
 * await copySchemas(fromUrl, toUrl, ['bench', 'ferry']);
 */
export async function copySchemas(fromUrl: string, toUrl: string, schemas: readonly string[]): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ferry-bench-dump-'));
  const file = path.join(dir, 'schemas.dump');
  try {
    const from = connection(fromUrl);
    await run(
      pgBin('pg_dump'),
      [
        '-Fc',
        '--no-owner',
        '--no-privileges',
        ...schemas.flatMap((s) => ['-n', s]),
        '-f',
        file,
        ...from.args,
      ],
      { env: { ...process.env, PGPASSWORD: from.password } },
    );
    const to = connection(toUrl);
    await run(pgBin('pg_restore'), ['--no-owner', '--no-privileges', '--exit-on-error', ...to.args, file], {
      env: { ...process.env, PGPASSWORD: to.password },
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function connection(url: string): { args: string[]; password: string } {
  const u = new URL(url);
  return {
    args: [
      '-h',
      u.hostname,
      '-p',
      u.port || '5432',
      '-U',
      decodeURIComponent(u.username),
      '-d',
      u.pathname.slice(1),
    ],
    password: decodeURIComponent(u.password),
  };
}

/** A PostgreSQL 15 program, looked up where scripts/services.sh looks. */
function pgBin(name: string): string {
  for (const dir of ['/usr/lib/postgresql/15/bin', '/usr/local/bin', '/usr/bin'])
    if (existsSync(path.join(dir, name))) return path.join(dir, name);
  return name;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
