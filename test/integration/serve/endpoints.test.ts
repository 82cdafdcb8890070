import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ObjectId } from 'bson';
import Fastify, { type FastifyInstance } from 'fastify';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDomains, setPhase } from '../../../src/runtime/domains.js';
import { recordGaps } from '../../../src/runtime/gaps.js';
import { targetOf } from '../../../src/runtime/stores.js';
import {
  buildServer,
  databasesHealthSchema,
  errorResponseSchema,
  type FerryServePlugin,
  ferryHealthPlugin,
  livenessSchema,
  readinessSchema,
  resolveThresholds,
  syncHealthSchema,
} from '../../../src/serve/index.js';
import { runFerry } from '../../support/cli.js';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text.js';
import { createTestDatabase, mongoUrl, postgresUrl } from '../../support/services.js';

const available = postgresUrl() !== undefined && mongoUrl() !== undefined;
const TOKEN = 'serve-test-token-1b7c';
const domains = { people: { collections: ['users'] }, shop: { collections: ['orders'] } };

/**
 * `ferry serve`'s endpoints through `app.inject`, over the state a real `ferry migrate` (one
 * document rejected) and a recorded gap leave in a fresh PostgreSQL database whose URL carries
 * a password, with FerretDB as the MongoDB to report on.
 */
describe.skipIf(!available)('ferry serve endpoints', () => {
  let target: { url: string; drop: () => Promise<void> };
  let cwd: string;
  let app: FastifyInstance;
  let mongoDatabase: string;
  const responses: string[] = [];

  /** GET with the right token, another one, or none (null). */
  async function get(url: string, token: string | null = TOKEN) {
    const response = await app.inject({
      url,
      ...(token !== null && { headers: { authorization: `Bearer ${token}` } }),
    });
    responses.push(JSON.stringify(response.headers), response.body);
    return response;
  }

  beforeAll(async () => {
    target = await createTestDatabase('serve_endpoints');
    expect(new URL(target.url).password).not.toBe('');
    cwd = await mkdtemp(path.join(tmpdir(), 'ferry-serve-'));
    await mkdir(path.join(cwd, 'data'));
    const users = Array.from({ length: 6 }, (_, i) => ({
      _id: { $oid: new ObjectId().toHexString() },
      // A NUL cannot go into PostgreSQL text: this user is rejected.
      name: i === 2 ? 'bad\u0000name' : `user ${i}`,
    }));
    const orders = Array.from({ length: 4 }, (_, i) => ({
      _id: { $oid: new ObjectId().toHexString() },
      total: i * 10,
    }));
    await writeFile(
      path.join(cwd, 'data/users.jsonl'),
      `${users.map((d) => JSON.stringify(d)).join('\n')}\n`,
    );
    await writeFile(
      path.join(cwd, 'data/orders.jsonl'),
      `${orders.map((d) => JSON.stringify(d)).join('\n')}\n`,
    );
    const migrated = await runFerry(['migrate', 'data', '--target', target.url, '--yes', '--json'], { cwd });
    // Exit 1: the run is not a success while a document is rejected.
    expect(migrated.code, migrated.stderr).toBe(1);
    // A later verify of one collection: the other keeps its earlier result in the figures.
    const verified = await runFerry(
      ['verify', 'data', '--only', 'orders', '--target', target.url, '--json'],
      {
        cwd,
      },
    );
    expect(verified.code, verified.stderr).toBe(0);

    const pool = new pg.Pool({ connectionString: target.url, max: 2 });
    const client = new MongoClient(mongoUrl()!, { serverSelectionTimeoutMS: 5000 });
    try {
      await registerDomains(targetOf(pool), domains);
      await setPhase(pool, 'shop', 'dual_write', { reason: 'serve test' });
      await recordGaps(
        { mongo: client.db('unused'), pg: pool, plan: { version: 1, collections: [] }, schema: 'public' },
        [
          {
            collection: 'orders',
            id: new ObjectId(),
            operation: 'updateOne',
            error: new Error('mirror failed'),
          },
        ],
      );
    } finally {
      await pool.end();
      await client.close();
    }
    mongoDatabase = `ferry_serve_${process.pid}`;
    const source = new URL(mongoUrl()!);
    source.pathname = `/${mongoDatabase}`;
    app = await buildServer({ target: target.url, source: source.toString(), domains, token: TOKEN });
  }, 300_000);

  afterAll(async () => {
    await app?.close();
    await target?.drop();
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  it('answers /health with liveness, without a token', async () => {
    const response = await get('/health', null);
    expect(response.statusCode).toBe(200);
    expect(livenessSchema.parse(response.json()).status).toBe('ok');
  });

  it('answers /health/ready with both stores reachable and schema ferry present', async () => {
    const response = await get('/health/ready');
    expect(response.statusCode).toBe(200);
    expect(readinessSchema.parse(response.json())).toEqual({
      ready: true,
      checks: { postgres: true, ferryState: true, mongodb: true },
    });
  });

  it('answers /health/databases with both stores connected, their latency and pools, and no credential', async () => {
    const response = await get('/health/databases');
    expect(response.statusCode).toBe(200);
    const body = databasesHealthSchema.parse(response.json());
    expect(body.postgres).toMatchObject({ connected: true, location: expect.stringContaining('***') });
    expect(body.postgres.latencyMs).toBeGreaterThanOrEqual(0);
    expect(body.postgres.pool.total).toBeGreaterThanOrEqual(1);
    expect(body.mongodb).toMatchObject({ connected: true, location: expect.stringContaining(mongoDatabase) });
    expect(body.mongodb!.pool.total).toBeGreaterThanOrEqual(1);
  });

  it('answers /health/sync per domain and in total: the domain with an open gap is degraded, with its alert', async () => {
    const response = await get('/health/sync');
    expect(response.statusCode).toBe(200);
    const body = syncHealthSchema.parse(response.json());
    expect(body.status).toBe('degraded');
    const shop = body.domains.find((d) => d.name === 'shop')!;
    expect(shop).toMatchObject({
      phase: 'dual_write',
      status: 'degraded',
      figures: { openGaps: 1, queueSize: 1 },
    });
    expect(shop.alerts).toEqual([
      expect.objectContaining({ domain: 'shop', figure: 'openGaps', level: 'warning' }),
    ]);
    expect(body.domains.find((d) => d.name === 'people')).toMatchObject({ status: 'healthy', alerts: [] });
    expect(body.total.figures.openGaps).toBe(1);
    expect(body.thresholds.lagSeconds).toEqual({ warning: 30, critical: 60 });
  });

  it('serves /metrics as Prometheus text with the backfill, verify, phase and gap figures of the state', async () => {
    const response = await get('/metrics');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain; version=0.0.4');
    const families = parsePrometheusText(response.body);
    const users = { schema: 'public', collection: 'users' };
    expect(sampleValue(families, 'ferry_backfill_documents', { ...users, outcome: 'read' })).toBe(6);
    expect(sampleValue(families, 'ferry_backfill_documents', { ...users, outcome: 'migrated' })).toBe(5);
    expect(sampleValue(families, 'ferry_backfill_documents', { ...users, outcome: 'rejected' })).toBe(1);
    expect(sampleValue(families, 'ferry_backfill_rejects_open', users)).toBe(1);
    expect(sampleValue(families, 'ferry_backfill_complete', { collection: 'orders' })).toBe(1);
    expect(sampleValue(families, 'ferry_backfill_last_run_id', { command: 'migrate' })).toBe(1);
    expect(sampleValue(families, 'ferry_verify_ok', { collection: 'orders' })).toBe(1);
    expect(
      sampleValue(families, 'ferry_verify_documents', { collection: 'orders', outcome: 'matched' }),
    ).toBe(4);
    expect(
      sampleValue(families, 'ferry_verify_documents', { collection: 'users', outcome: 'rejected' }),
    ).toBe(1);
    expect(sampleValue(families, 'ferry_domain_phase', { domain: 'shop', phase: 'dual_write' })).toBe(1);
    expect(sampleValue(families, 'ferry_domain_phase', { domain: 'shop', phase: 'mongo' })).toBe(0);
    expect(sampleValue(families, 'ferry_domain_phase', { domain: 'people', phase: 'mongo' })).toBe(1);
    expect(sampleValue(families, 'ferry_gaps_open', { collection: 'orders' })).toBe(1);
    expect(sampleValue(families, 'ferry_sync_status', { domain: 'shop' })).toBe(1);
    expect(sampleValue(families, 'ferry_status_up')).toBe(1);
    // No outbox, shadow or TTL table on this target: the families are declared, with no samples.
    for (const family of ['ferry_outbox_depth', 'ferry_shadow_reads', 'ferry_ttl_rows_removed'])
      expect(families.get(family)?.samples).toEqual([]);
  });

  it('refuses every endpoint but /health without the token, or with a wrong one (401)', async () => {
    for (const url of ['/health/ready', '/health/databases', '/health/sync', '/metrics', '/no-such-page']) {
      for (const token of [null, 'wrong-token']) {
        const response = await get(url, token);
        expect(response.statusCode, `${url} with ${token ?? 'no token'}`).toBe(401);
        expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
        expect(errorResponseSchema.parse(response.json()).error.code).toBe('SERVE_UNAUTHORIZED');
      }
    }
  });

  it('lets a browser in with ?token= once: an HttpOnly cookie, and a redirect to the address without the token', async () => {
    const wrong = await app.inject({ url: '/health/sync?token=wrong-token' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    const login = await app.inject({ url: `/health/sync?token=${TOKEN}&x=1` });
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe('/health/sync?x=1');
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const cookie = setCookie.split(';')[0]!;
    const followed = await app.inject({ url: '/health/sync?x=1', headers: { cookie } });
    expect(followed.statusCode).toBe(200);
    syncHealthSchema.parse(followed.json());
    const forged = await app.inject({ url: '/health/sync', headers: { cookie: 'ferry_serve_token=nope' } });
    expect(forged.statusCode).toBe(401);
  });

  it('registers plugins (the dashboard) with the context, behind the same token, at build time or after', async () => {
    const seen: string[] = [];
    const counts: FerryServePlugin = async (plugin, { ferry }) => {
      plugin.get('/counts', async () => ({ collections: (await ferry.snapshot()).collections.length }));
    };
    const later: FerryServePlugin = async (plugin, { ferry }) => {
      seen.push(ferry.schema);
      plugin.get('/later', async () => ({ showValues: ferry.showValues }));
    };
    const withPlugins = await buildServer({ target: target.url, token: TOKEN, plugins: [counts] });
    try {
      await withPlugins.register(later, { ferry: withPlugins.ferry });
      expect((await withPlugins.inject({ url: '/counts' })).statusCode).toBe(401);
      const authorization = { authorization: `Bearer ${TOKEN}` };
      const response = await withPlugins.inject({ url: '/counts', headers: authorization });
      expect(response.json()).toEqual({ collections: 2 });
      expect((await withPlugins.inject({ url: '/later', headers: authorization })).json()).toEqual({
        showValues: false,
      });
      expect(seen).toEqual(['public']);
    } finally {
      await withPlugins.close();
    }
  });

  it('turns /health/sync critical (503) when the configured thresholds say so', async () => {
    const strict = await buildServer({
      target: target.url,
      domains,
      thresholds: resolveThresholds({ openGaps: { critical: 0 } }),
    });
    try {
      const response = await strict.inject({ url: '/health/sync' });
      responses.push(response.body);
      expect(response.statusCode).toBe(503);
      const body = syncHealthSchema.parse(response.json());
      expect(body.status).toBe('critical');
      expect(body.domains.find((d) => d.name === 'shop')!.alerts).toEqual([
        expect.objectContaining({ figure: 'openGaps', level: 'critical', value: 1, threshold: 0 }),
      ]);
    } finally {
      await strict.close();
    }
  });

  it('mounts in an application’s own fastify server under a prefix, over the application’s pool and database', async () => {
    const own = Fastify();
    const pool = new pg.Pool({ connectionString: target.url, max: 2 });
    const client = new MongoClient(mongoUrl()!, { serverSelectionTimeoutMS: 5000 });
    try {
      await own.register(ferryHealthPlugin, {
        pg: pool,
        mongo: client.db(mongoDatabase),
        domains,
        prefix: '/ops',
      });
      const sync = await own.inject({ url: '/ops/health/sync' });
      responses.push(sync.body);
      expect(syncHealthSchema.parse(sync.json()).domains.find((d) => d.name === 'shop')!.status).toBe(
        'degraded',
      );
      const databases = await own.inject({ url: '/ops/health/databases' });
      responses.push(databases.body);
      const stores = databasesHealthSchema.parse(databases.json());
      expect(stores.postgres.connected).toBe(true);
      expect(stores.mongodb).toMatchObject({
        connected: true,
        location: expect.stringContaining(mongoDatabase),
      });
      const metrics = await own.inject({ url: '/ops/metrics' });
      responses.push(metrics.body);
      expect(
        sampleValue(parsePrometheusText(metrics.body), 'ferry_gaps_open', { collection: 'orders' }),
      ).toBe(1);
      expect((await own.inject({ url: '/health' })).statusCode).toBe(404);
    } finally {
      await own.close();
      await pool.end();
      await client.close();
    }
  });

  it('never shows the password of the target URL in any response', () => {
    const password = new URL(target.url).password;
    expect(responses.length).toBeGreaterThan(10);
    for (const body of responses) {
      expect(body).not.toContain(password);
      expect(body).not.toContain(decodeURIComponent(password));
    }
  });
});
