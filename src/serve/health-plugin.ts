import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { gapError } from '../runtime/gaps.js';
import { createFerryMetrics } from './metrics.js';
import type { DatabasesHealth, Liveness, Readiness } from './schemas.js';
import { createServeContext, type FerryServeContext, type ServeContextOptions } from './serve-context.js';
import { probeMongo, probePostgres, withProbeTimeout } from './store-probes.js';
import { syncHealth } from './sync-health.js';

/**
 * Options of `ferryHealthPlugin`: either a context `ferry serve` built, or the application's
 * own pool (and MongoDB database) to build one from.
 *
 * @example
 * import pg from 'pg';
 * const options: FerryHealthOptions = { pg: new pg.Pool(), domains: { money: { collections: ['payments'] } } };
 */
export type FerryHealthOptions = (ServeContextOptions | { readonly context: FerryServeContext }) & {
  /** Also serve `/metrics` (default true). */
  readonly metrics?: boolean;
};

/**
 * Ferry's health endpoints as a fastify plugin, for an application to mount in its own
 * server (`ferry serve` mounts the same plugin):
 * - `GET /health`: liveness, asks no database;
 * - `GET /health/ready`: PostgreSQL answers and holds schema `ferry`, MongoDB (if given)
 *   answers; 503 otherwise;
 * - `GET /health/databases`: each store connected or not, round-trip latency, pool figures;
 * - `GET /health/sync`: per domain and in total, lag, queue, failed events and open gaps, with
 *   a status and alerts from the thresholds; 503 when critical;
 * - `GET /metrics`: the same state in Prometheus' text format (a registry of its own).
 * The JSON matches the schemas in src/serve/schemas.ts. No response carries a credential
 * (locations are redacted) or a document value.
 *
 * @example
 * import Fastify from 'fastify';
 * import pg from 'pg';
 * const app = Fastify();
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await app.register(ferryHealthPlugin, { pg: pool, prefix: '/ops' });   // GET /ops/health/sync
 * await app.listen({ port: 3000 });
 */
export const ferryHealthPlugin: FastifyPluginAsync<FerryHealthOptions> = async (app, options) => {
  const context = 'context' in options ? options.context : createServeContext(options);
  const started = performance.now();

  app.get(
    '/health',
    async (): Promise<Liveness> => ({
      status: 'ok',
      uptimeSeconds: Math.round(performance.now() - started) / 1000,
    }),
  );

  app.get('/health/ready', async (_request, reply) => {
    const [postgres, mongodb] = await Promise.all([
      ferryStatePresent(context),
      context.mongo === undefined
        ? undefined
        : probeMongo(context.mongo.db, context.mongo.counter, context.mongo.location).then(
            (m) => m.connected,
          ),
    ]);
    const body: Readiness = {
      ready: postgres.connected && postgres.ferryState && mongodb !== false,
      checks: {
        postgres: postgres.connected,
        ferryState: postgres.ferryState,
        ...(mongodb !== undefined && { mongodb }),
      },
    };
    return reply.code(body.ready ? 200 : 503).send(body);
  });

  app.get('/health/databases', async (): Promise<DatabasesHealth> => {
    const [postgres, mongodb] = await Promise.all([
      probePostgres(context.pg, context.postgresLocation),
      context.mongo === undefined
        ? undefined
        : probeMongo(context.mongo.db, context.mongo.counter, context.mongo.location),
    ]);
    return { postgres, ...(mongodb !== undefined && { mongodb }) };
  });

  app.get('/health/sync', async (_request, reply) => {
    const snapshot = await readSnapshot(context, reply);
    if (snapshot === undefined) return reply;
    const health = syncHealth(snapshot, context.thresholds);
    return reply.code(health.status === 'critical' ? 503 : 200).send(health);
  });

  if (options.metrics === false) return;
  const metrics = createFerryMetrics();
  // One scrape at a time: an update resets the registry, so two interleaved would mix.
  let scraping: Promise<unknown> = Promise.resolve();
  app.get('/metrics', async (_request, reply) => {
    const scrape = scraping.then(async () => {
      const began = performance.now();
      try {
        const snapshot = await context.snapshot();
        metrics.update(
          snapshot,
          syncHealth(snapshot, context.thresholds),
          (performance.now() - began) / 1000,
        );
      } catch {
        metrics.unavailable();
      }
      return metrics.registry.metrics();
    });
    scraping = scrape.catch(() => {});
    return reply.type(metrics.registry.contentType).send(await scrape);
  });
};

async function ferryStatePresent(
  context: FerryServeContext,
): Promise<{ connected: boolean; ferryState: boolean }> {
  try {
    const { rows } = await withProbeTimeout(
      context.pg.query<{ present: boolean }>(
        `select exists (select 1 from pg_namespace where nspname = 'ferry') as present`,
      ),
    );
    return { connected: true, ferryState: rows[0]?.present === true };
  } catch {
    return { connected: false, ferryState: false };
  }
}

/** The snapshot, or a 503 naming why it cannot be read (PostgreSQL down), with no credential. */
async function readSnapshot(context: FerryServeContext, reply: FastifyReply) {
  try {
    return await context.snapshot();
  } catch (error) {
    const { code, message } = gapError(error);
    await reply.code(503).send({ error: { code, message: `cannot read Ferry's state: ${message}` } });
    return undefined;
  }
}
