/**
 * One instance of the escrow app: Mongoose on MongoDB (FerretDB in the walk-through), a
 * PostgreSQL pool, and Ferry's runtime, which follows each domain's phase and mirrors the
 * models' writes. Start several; they follow the same phases.
 *
 *   ESCROW_MONGO_URL=mongodb://127.0.0.1:27017/escrow DATABASE_URL=postgres://…/escrow \
 *     PORT=3000 npx tsx examples/escrow/app/server.ts
 *
 * Prints one JSON line `{"listening":"http://127.0.0.1:3000"}` once it serves. SIGTERM or
 * SIGINT closes it gracefully.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import mongoose from 'mongoose';
import pg from 'pg';
// In an application: `from 'ferry'`. The example imports the package entry from the source tree.
import {
  createRuntime,
  ferryMongoosePlugin,
  installDriverWriteGuard,
  loadConfig,
} from '../../../src/index.js';
import { Admission } from './admission.js';
import { EscrowService } from './escrow-service.js';
import { registerRoutes } from './routes.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface EscrowAppOptions {
  readonly mongoUrl: string;
  readonly postgresUrl: string;
  readonly port?: number;
  readonly host?: string;
  /** Default: examples/escrow/ferry.config.ts. */
  readonly configPath?: string;
  /** Writes, and reads apart, that run at once at most; more are refused with 503 (see admission.ts). Default 16 each. */
  readonly maxConcurrent?: number;
}

/** Start an instance; resolves with its URL and a `close()`. */
export async function startEscrowApp(
  options: EscrowAppOptions,
): Promise<{ url: string; close(): Promise<void> }> {
  const config = await loadConfig({
    configPath: options.configPath ?? path.join(here, '../ferry.config.ts'),
    target: options.postgresUrl,
  });
  // Outages are part of life (the walk-through stops each store): fail fast, let the client retry.
  // The indexes are built once, by the seed (or your deploy), not by every instance at start.
  // Every wait on MongoDB is bounded, so no request, and no runtime copy holding a per-entity
  // lock on this client, waits long on a store that went away: server selection (3 s), a
  // connection's set-up and the driver's health checks (3 s), each round trip (10 s). (The
  // driver's `timeoutMS` would bound an operation as a whole, but driver 7 ignores it.) The
  // write guard covers the one wait no timeout bounds (see src/sources/mongodb/driver-write-guard.ts).
  installDriverWriteGuard();
  await mongoose.connect(options.mongoUrl, {
    serverSelectionTimeoutMS: 3000,
    connectTimeoutMS: 3000,
    socketTimeoutMS: 10_000,
    autoIndex: false,
    autoCreate: false,
  });
  const db = mongoose.connection.db;
  if (db === undefined) throw new Error('mongoose connected without a database');
  // Every mirrored write borrows a connection: too small a pool turns a burst of requests
  // into connect timeouts, which the runtime must treat as PostgreSQL being away (gaps).
  const pool = new pg.Pool({
    connectionString: options.postgresUrl,
    max: 20,
    connectionTimeoutMillis: 10_000,
  });
  pool.on('error', () => {});
  const runtime = await createRuntime({ mongo: db, pg: pool, config });
  // The plugin must be registered before the models compile, hence the models' late import.
  mongoose.plugin(ferryMongoosePlugin(runtime));
  const { LedgerEntry, User, Wallet } = await import('../models/index.js');
  const service = new EscrowService(runtime, { LedgerEntry, User, Wallet } as never);

  const app = Fastify({ logger: { level: process.env.ESCROW_LOG_LEVEL ?? 'warn' } });
  const limit = options.maxConcurrent ?? 16;
  registerRoutes(app, service, { writes: new Admission(limit), reads: new Admission(limit) });
  const url = await app.listen({ port: options.port ?? 3000, host: options.host ?? '127.0.0.1' });
  return {
    url,
    async close() {
      await app.close();
      await runtime.close();
      await mongoose.disconnect();
      await pool.end();
    },
  };
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const mongoUrl = process.env.ESCROW_MONGO_URL;
  const postgresUrl = process.env.DATABASE_URL;
  if (mongoUrl === undefined || postgresUrl === undefined) {
    console.error('set ESCROW_MONGO_URL (mongodb://host/db) and DATABASE_URL (postgres://…)');
    process.exit(2);
  }
  const instance = await startEscrowApp({
    mongoUrl,
    postgresUrl,
    port: Number(process.env.PORT ?? 3000),
    ...(process.env.ESCROW_CONFIG !== undefined && { configPath: process.env.ESCROW_CONFIG }),
    ...(process.env.ESCROW_MAX_CONCURRENT !== undefined && {
      maxConcurrent: Number(process.env.ESCROW_MAX_CONCURRENT),
    }),
  });
  console.log(JSON.stringify({ listening: instance.url }));
  const stop = () => {
    void instance.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
