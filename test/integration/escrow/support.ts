import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import type { ObjectId } from 'bson';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { seedEscrow } from '../../../examples/escrow/seed.js';
import { type CliResult, runFerry } from '../../support/cli.js';
import { createTestDatabase, mongoUrl, postgresUrl, repoRoot } from '../../support/services.js';

/**
 * The escrow example's world for its tests: the seeded app data in a FerretDB database of its
 * own, a fresh PostgreSQL database, and the example's own config (examples/escrow/ferry.config.ts,
 * with its reviewed mapping). Apps and the load generator run as separate processes, as a user
 * would start them (`tsx`), never inside the test's process.
 */
export const servicesReady = Boolean(postgresUrl() && mongoUrl());
export const ESCROW_CONFIG = path.join(repoRoot, 'examples/escrow/ferry.config.ts');
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface EscrowWorld {
  /** `mongodb://…/<database>` of the app. */
  readonly mongoUri: string;
  readonly targetUrl: string;
  readonly mongo: MongoClient;
  readonly pool: pg.Pool;
  /** A scratch folder: the cwd of the CLI (its `migrations/`) and of the load generator's files. */
  readonly dir: string;
  /** The world's config file (the example's, with the overrides). */
  readonly configPath: string;
  /** `ferry <args> --config <example config> --target <db>` in `dir`. */
  ferry(args: readonly string[]): Promise<CliResult>;
  close(): Promise<void>;
}

/**
 * `overrides` are merged over the example's config in a config file of the world's own (the
 * walk-through shortens the cutover gates' windows, made for days, to its minutes).
 */
export async function createEscrowWorld(
  prefix: string,
  users = 100,
  overrides: Record<string, unknown> = {},
): Promise<EscrowWorld> {
  const database = `escrow_${prefix}_${process.pid}_${Date.now().toString(36)}`;
  const url = new URL(mongoUrl()!);
  url.pathname = `/${database}`;
  const mongoUri = url.toString();
  await seedEscrow(mongoUri, { users });
  const target = await createTestDatabase(`escrow_${prefix}`);
  const dir = await mkdtemp(path.join(tmpdir(), `escrow-${prefix}-`));
  const configPath = path.join(dir, 'ferry.config.ts');
  await writeFile(
    configPath,
    `import base from ${JSON.stringify(ESCROW_CONFIG)};\nexport default { ...base, ...${JSON.stringify(overrides)} };\n`,
  );
  const mongo = new MongoClient(mongoUrl()!, { serverSelectionTimeoutMS: 5000 });
  const pool = new pg.Pool({ connectionString: target.url, max: 4 });
  pool.on('error', () => {});
  const ferry = (args: readonly string[]) =>
    runFerry([...args, '--config', configPath, '--target', target.url], { cwd: dir });
  return {
    mongoUri,
    targetUrl: target.url,
    mongo,
    pool,
    dir,
    configPath,
    ferry,
    async close() {
      await pool.end().catch(() => {});
      await mongo
        .db(database)
        .dropDatabase()
        .catch(() => {});
      await mongo.close();
      await target.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A child process of the example (an app instance, the load generator) and its output so far. */
export interface ExampleProcess {
  readonly child: ChildProcess;
  readonly stderr: () => string;
  /** Resolves with the exit code once it has exited. */
  readonly exited: Promise<number>;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** Run `examples/escrow/<script>` with tsx; resolves once it printed a JSON line with `readyKey`. */
export async function startExample(
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  readyKey: string,
): Promise<{ process: ExampleProcess; ready: Record<string, unknown> }> {
  const child = spawn(
    process.execPath,
    ['--import', tsxLoader, path.join(repoRoot, 'examples/escrow', script), ...args],
    {
      cwd: repoRoot,
      env: { ...process.env, NODE_OPTIONS: '', FORCE_COLOR: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  const exited = new Promise<number>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : -1))),
  );
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (readyKey in parsed) resolve(parsed);
      } catch {
        // not a JSON line: ignore
      }
    });
    void exited.then((code) =>
      reject(new Error(`${script} exited with ${code} before it was ready:\n${stderr}`)),
    );
  });
  return {
    process: {
      child,
      stderr: () => stderr,
      exited,
      async stop(signal = 'SIGTERM') {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        return exited;
      },
    },
    ready,
  };
}

/** Start one app instance on a free port (on the world's stores, or on `urls`, e.g. proxies); resolves with its URL. */
export async function startApp(
  world: EscrowWorld,
  urls: { mongo?: string; pg?: string } = {},
): Promise<{ url: string; process: ExampleProcess }> {
  const { process: app, ready } = await startExample(
    'app/server.ts',
    [],
    {
      ESCROW_MONGO_URL: urls.mongo ?? world.mongoUri,
      DATABASE_URL: urls.pg ?? world.targetUrl,
      ESCROW_CONFIG: world.configPath,
      PORT: '0',
    },
    'listening',
  );
  return { url: String(ready.listening), process: app };
}

/** Same-currency pairs of wallets, the paying one with at least 50.00 on it: [from, to] hex ids. */
export async function walletPairs(world: EscrowWorld): Promise<[string, string][]> {
  const wallets = await world.mongo
    .db(new URL(world.mongoUri).pathname.slice(1))
    .collection<{ _id: ObjectId; currency: string; balanceMinor: number }>('wallets')
    .find({}, { projection: { currency: 1, balanceMinor: 1 } })
    .toArray();
  const pairs: [string, string][] = [];
  for (const a of wallets)
    for (const b of wallets)
      if (a !== b && a.currency === b.currency && a.balanceMinor >= 5000)
        pairs.push([a._id.toHexString(), b._id.toHexString()]);
  return pairs;
}

/**
 * POST /transfers with a key, sent again with the same key while the answer is 503 (the API's
 * "retry": an instance at its limit of requests at once, or a store away), for up to `retryMs`.
 */
export async function postTransfer(
  url: string,
  key: string,
  body: { from: string; to: string; amountMinor: number },
  retryMs = 120_000,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const deadline = Date.now() + retryMs;
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${url}/transfers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
    });
    const answer = { status: response.status, body: (await response.json()) as Record<string, unknown> };
    if (answer.status !== 503 || Date.now() > deadline) return answer;
    await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt) * (0.5 + Math.random())));
  }
}
