import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { FerryError } from '../core/errors.js';
import { redactSecrets, redactUri } from '../core/redact.js';
import type { Plan } from '../mapping/model.js';
import type { DomainDefinitions } from '../runtime/domains.js';
import { installDriverWriteGuard } from '../sources/mongodb/driver-write-guard.js';
import { parseMongoUri } from '../sources/mongodb/uri.js';
import { ferryHealthPlugin } from './health-plugin.js';
import { createServeContext, type FerryServeContext } from './serve-context.js';
import type { SyncThresholds } from './thresholds.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Ferry's stores, settings and status snapshot (see `FerryServeContext`). */
    ferry: FerryServeContext;
  }
}

/**
 * A plugin that `ferry serve` registers on its server, such as the dashboard. It gets the
 * context in its options (also at `app.ferry`); the server's bearer-token check already
 * covers its routes.
 *
 * @example
 * const hello: FerryServePlugin = async (app, { ferry }) => {
 *   app.get('/hello', async () => ({ collections: (await ferry.snapshot()).collections.length }));
 * };
 */
export type FerryServePlugin = FastifyPluginAsync<{ readonly ferry: FerryServeContext }>;

/**
 * What `buildServer` needs.
 *
 * @example
 * const options: ServeOptions = { target: 'postgres://app:secret@db/shop', source: 'mongodb://mongo/shop' };
 */
export interface ServeOptions {
  /** The PostgreSQL target (`postgres://…`): where schema `ferry` lives. */
  readonly target: string;
  /** The live MongoDB (`mongodb://host/database`), when there is one to report on. */
  readonly source?: string;
  /** The runtime's target schema (default public). */
  readonly schema?: string;
  readonly domains?: DomainDefinitions;
  readonly plan?: Plan;
  readonly thresholds?: SyncThresholds;
  /** When set, every route but `/health` needs `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Document values may be shown, as with a command's `--show-values` (default false). */
  readonly showValues?: boolean;
  /** Registered after the health endpoints, each with `{ ferry: context }` (the dashboard). */
  readonly plugins?: readonly FerryServePlugin[];
}

/**
 * The server of `ferry serve`, built but not listening: the health endpoints and `/metrics`
 * (`ferryHealthPlugin`), the token check (a bearer header, or for a browser a cookie that
 * `?token=` sets), and any `plugins`. It opens its own pool to
 * PostgreSQL and client to MongoDB, lazily, so it starts while a store is down (and reports
 * it); `app.close()` closes both. Errors answer `{ error: { code, message } }`, redacted.
 *
 * @example
 * declare const dashboard: FerryServePlugin;
 * const app = await buildServer({ target: process.env.DATABASE_URL!, token: 's3cret', plugins: [dashboard] });
 * const response = await app.inject({ url: '/health/sync', headers: { authorization: 'Bearer s3cret' } });
 * await app.close();
 */
export async function buildServer(options: ServeOptions): Promise<FastifyInstance> {
  // The source first: a bad one throws before there is a pool to close.
  const mongo = options.source === undefined ? undefined : mongoClient(options.source);
  const pool = new pg.Pool({ connectionString: options.target, max: 4, connectionTimeoutMillis: 3000 });
  // Idle clients die with the server; unhandled, that error would end the process.
  pool.on('error', () => {});
  const context = createServeContext({
    pg: pool,
    postgresLocation: options.target,
    ...(mongo !== undefined && { mongo: mongo.db, mongoLocation: options.source }),
    ...(options.schema !== undefined && { schema: options.schema }),
    ...(options.domains !== undefined && { domains: options.domains }),
    ...(options.plan !== undefined && { plan: options.plan }),
    ...(options.thresholds !== undefined && { thresholds: options.thresholds }),
    showValues: options.showValues === true,
  });
  const app = Fastify({ logger: false });
  app.decorate('ferry', context);
  app.addHook('onClose', async () => {
    await pool.end().catch(() => {});
    await mongo?.client.close().catch(() => {});
  });
  if (options.token !== undefined) requireBearer(app, options.token);
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, _request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    const code =
      error instanceof FerryError ? error.code : status === 500 ? 'INTERNAL' : (error.code ?? 'BAD_REQUEST');
    return reply.code(status).send({ error: { code, message: redactSecrets(error.message) } });
  });
  await app.register(ferryHealthPlugin, { context });
  for (const plugin of options.plugins ?? []) await app.register(plugin, { ferry: context });
  // Not booted (no ready()): a caller can still register more, e.g. `app.register(plugin, { ferry: app.ferry })`.
  return app;
}

function mongoClient(uri: string): { client: MongoClient; db: ReturnType<MongoClient['db']> } {
  const database = /^mongodb(\+srv)?:\/\//i.test(uri) ? parseMongoUri(uri).database : undefined;
  if (database === undefined)
    throw new FerryError(`ferry serve reports on a live MongoDB database, not ${redactUri(uri)}`, {
      code: 'RUNTIME_SOURCE_NOT_LIVE',
      category: 'usage',
      hint: 'pass the primary as mongodb://host/database, or no source to report on PostgreSQL only',
    });
  // Short timeouts: a health probe must answer "unreachable" quickly, not after 30 s. The
  // guard: a probe sent as MongoDB goes away must not hang every later probe (driver-write-guard.ts).
  installDriverWriteGuard();
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 2000, connectTimeoutMS: 2000 });
  return { client, db: client.db(database) };
}

/** The cookie that carries the token for a browser, which cannot send a header on navigation. */
const TOKEN_COOKIE = 'ferry_serve_token';

/**
 * Every route but `/health` (liveness, which a load balancer asks without credentials) needs
 * the token: as `Authorization: Bearer <token>`, or, for a browser (the dashboard, whose page
 * loads and event streams cannot set headers), as an HttpOnly, SameSite=Strict cookie. A GET
 * with `?token=<token>` sets that cookie and redirects to the same address without the token,
 * so the token leaves the address bar and the history at once. Both sides are hashed before
 * the constant-time comparison, so neither the token's content nor its length leaks through
 * timing.
 */
function requireBearer(app: FastifyInstance, token: string): void {
  const expected = createHash('sha256').update(token).digest();
  const matches = (given: string | undefined) =>
    given !== undefined && timingSafeEqual(createHash('sha256').update(given).digest(), expected);
  app.addHook('onRequest', async (request, reply) => {
    const url = new URL(request.url, 'http://ferry.invalid');
    if (url.pathname === '/health') return;
    const header = request.headers.authorization;
    const bearer = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
    if (matches(bearer) || matches(cookie(request.headers.cookie, TOKEN_COOKIE))) return;
    const query = url.searchParams.get('token') ?? undefined;
    if (request.method === 'GET' && matches(query)) {
      url.searchParams.delete('token');
      await reply
        .code(303)
        .header(
          'set-cookie',
          `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`,
        )
        .header('location', `${url.pathname}${url.search}`)
        .send();
      return reply;
    }
    const given = bearer ?? query;
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="ferry"')
      .send({
        error: {
          code: 'SERVE_UNAUTHORIZED',
          message:
            given === undefined
              ? 'this endpoint needs Authorization: Bearer <token>'
              : 'the bearer token is wrong',
        },
      });
    return reply;
  });
}

/** One cookie's value from a Cookie header. */
function cookie(header: string | undefined, name: string): string | undefined {
  for (const pair of header?.split(';') ?? []) {
    const equals = pair.indexOf('=');
    if (equals > 0 && pair.slice(0, equals).trim() === name) {
      try {
        return decodeURIComponent(pair.slice(equals + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Hosts that only this machine can reach. */
const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|::1|\[::1\]|::ffff:127(?:\.\d{1,3}){3})$/i;

/**
 * Refuse to listen beyond this machine without a bearer token (DESIGN.md invariant 6: servers
 * bind to loopback unless told otherwise, and then they guard what they show).
 *
 * @example
 * checkBinding('127.0.0.1', undefined);   // fine
 * checkBinding('0.0.0.0', undefined);     // throws SERVE_TOKEN_REQUIRED (exit 2)
 */
export function checkBinding(host: string, token: string | undefined): void {
  if (LOOPBACK.test(host.trim())) return;
  if (token !== undefined && token !== '') return;
  throw new FerryError(`ferry serve refuses to listen on ${host} without a bearer token`, {
    code: 'SERVE_TOKEN_REQUIRED',
    category: 'usage',
    hint: 'set FERRY_SERVE_TOKEN (or pass --token), or listen on 127.0.0.1 only',
  });
}
