import { z } from 'zod';

/**
 * The JSON of `ferry serve`'s health endpoints, as zod schemas: the tests check every response
 * against them, and a dashboard or a monitoring script can parse responses with them.
 */

const healthLevel = z.enum(['healthy', 'degraded', 'critical']);

/**
 * `GET /health`: the process is up (liveness; it asks no database).
 *
 * @example
 * livenessSchema.parse({ status: 'ok', uptimeSeconds: 12.5 });
 */
export const livenessSchema = z
  .object({ status: z.literal('ok'), uptimeSeconds: z.number().nonnegative() })
  .strict();

/**
 * `GET /health/ready`: 200 when PostgreSQL answers and holds schema `ferry`, and MongoDB
 * (when configured) answers; 503 otherwise, with the failing checks.
 *
 * @example
 * const ready = readinessSchema.parse({ ready: false, checks: { postgres: true, ferryState: false } });
 */
export const readinessSchema = z
  .object({
    ready: z.boolean(),
    checks: z
      .object({ postgres: z.boolean(), ferryState: z.boolean(), mongodb: z.boolean().optional() })
      .strict(),
  })
  .strict();

const poolSchema = z
  .object({
    /** Connections the pool holds. */
    total: z.number().int().nonnegative(),
    idle: z.number().int().nonnegative(),
    /** Requests waiting for a connection. */
    waiting: z.number().int().nonnegative(),
  })
  .strict();

const storeSchema = z
  .object({
    /** Where it is, without credentials (`postgres://app:***@db:5432/shop`). */
    location: z.string(),
    connected: z.boolean(),
    /** One round trip (`select 1`, `ping`), null when it failed. */
    latencyMs: z.number().nonnegative().nullable(),
    pool: poolSchema,
    /** Why it is not connected: an error code and a message without values or credentials. */
    error: z.object({ code: z.string(), message: z.string() }).strict().optional(),
  })
  .strict();

/**
 * `GET /health/databases`: both stores, each connected or not, with a round trip's latency
 * and the pool's figures. `mongodb` is absent when no MongoDB source is configured.
 *
 * @example
 * const { postgres } = databasesHealthSchema.parse(await (await fetch('http://127.0.0.1:7070/health/databases')).json());
 * console.log(postgres.connected, postgres.latencyMs, postgres.pool.waiting);
 */
export const databasesHealthSchema = z
  .object({ postgres: storeSchema, mongodb: storeSchema.optional() })
  .strict();

const figuresSchema = z
  .object({
    lagSeconds: z.number().nonnegative(),
    queueSize: z.number().int().nonnegative(),
    failedEvents: z.number().int().nonnegative(),
    openGaps: z.number().int().nonnegative(),
  })
  .strict();

const alertSchema = z
  .object({
    /** The domain it is about; null for an alert on the total figures (every collection of the schema). */
    domain: z.string().nullable(),
    figure: z.enum(['lagSeconds', 'queueSize', 'failedEvents', 'openGaps']),
    level: z.enum(['warning', 'critical']),
    value: z.number(),
    threshold: z.number(),
    message: z.string(),
  })
  .strict();

const levelsSchema = z.object({ warning: z.number(), critical: z.number() }).strict();

/**
 * `GET /health/sync`: per domain and in total, the figures that say how far the other store
 * is behind (lag, queue, failed events, open gaps), the status they give, and the alerts.
 * Answers 200 for `healthy` and `degraded`, 503 for `critical`.
 *
 * @example
 * const sync = syncHealthSchema.parse(await (await fetch('http://127.0.0.1:7070/health/sync')).json());
 * for (const alert of sync.total.alerts) console.log(alert.level, alert.message);
 */
export const syncHealthSchema = z
  .object({
    status: healthLevel,
    takenAt: z.string(),
    domains: z.array(
      z
        .object({
          name: z.string(),
          phase: z.string(),
          collections: z.array(z.string()),
          status: healthLevel,
          figures: figuresSchema,
          alerts: z.array(alertSchema),
          /** Shadow reads of the domain's collections, all time; absent before state step 17. */
          shadow: z
            .object({ matched: z.number(), mismatched: z.number(), timedOut: z.number(), failed: z.number() })
            .strict()
            .optional(),
        })
        .strict(),
    ),
    total: z.object({ status: healthLevel, figures: figuresSchema, alerts: z.array(alertSchema) }).strict(),
    thresholds: z
      .object({
        lagSeconds: levelsSchema,
        queueSize: levelsSchema,
        failedEvents: levelsSchema,
        openGaps: levelsSchema,
      })
      .strict(),
  })
  .strict();

/**
 * A refused request: 401 without the right bearer token, 503 when a store is unreachable.
 *
 * @example
 * errorResponseSchema.parse({ error: { code: 'SERVE_UNAUTHORIZED', message: 'a bearer token is required' } });
 */
export const errorResponseSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string() }).strict() })
  .strict();

/** @see livenessSchema */
export type Liveness = z.infer<typeof livenessSchema>;
/** @see readinessSchema */
export type Readiness = z.infer<typeof readinessSchema>;
/**
 * The body of `GET /health/databases` (see `databasesHealthSchema`).
 *
 * @example
 * declare const body: DatabasesHealth;
 * if (!body.postgres.connected) console.error(body.postgres.location, body.postgres.error?.code);
 */
export type DatabasesHealth = z.infer<typeof databasesHealthSchema>;
/** One store in `/health/databases`. */
export type StoreHealth = z.infer<typeof storeSchema>;
/**
 * The body of `GET /health/sync` (see `syncHealthSchema`).
 *
 * @example
 * declare const body: SyncHealth;
 * for (const domain of body.domains) console.log(domain.name, domain.status, domain.figures.lagSeconds);
 */
export type SyncHealth = z.infer<typeof syncHealthSchema>;
/** One alert of `/health/sync`. */
export type SyncAlert = z.infer<typeof alertSchema>;
/** The figures of a domain (or the total) in `/health/sync`. */
export type SyncFigures = z.infer<typeof figuresSchema>;
/** `healthy`, `degraded` or `critical`. */
export type HealthLevel = z.infer<typeof healthLevel>;
