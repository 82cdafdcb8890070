import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildServer,
  databasesHealthSchema,
  errorResponseSchema,
  livenessSchema,
  readinessSchema,
} from '../../../src/serve/index.js';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text.js';

const PASSWORD = 'Unreachable-Secret-7731';

/** A port nothing listens on: taken, then let go. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * `ferry serve` starts, and answers, while neither store can be reached: liveness stays up,
 * readiness and the databases say what is down, `/health/sync` is 503 with a reason, and
 * `/metrics` reports `ferry_status_up 0`. No answer carries the target's password.
 */
describe('ferry serve with both stores unreachable', () => {
  let app: FastifyInstance;
  const bodies: string[] = [];

  beforeAll(async () => {
    const port = await closedPort();
    app = await buildServer({
      target: `postgres://ferry:${PASSWORD}@127.0.0.1:${port}/shop`,
      source: `mongodb://ferry:${PASSWORD}@127.0.0.1:${port}/shop`,
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  async function get(url: string) {
    const response = await app.inject({ url });
    bodies.push(response.body, JSON.stringify(response.headers));
    return response;
  }

  it('stays live, and is not ready, naming both stores', async () => {
    expect(livenessSchema.parse((await get('/health')).json()).status).toBe('ok');
    const ready = await get('/health/ready');
    expect(ready.statusCode).toBe(503);
    expect(readinessSchema.parse(ready.json()).checks).toEqual({
      postgres: false,
      ferryState: false,
      mongodb: false,
    });
  });

  it('shows both stores disconnected with an error code, and locations without the password', async () => {
    const body = databasesHealthSchema.parse((await get('/health/databases')).json());
    expect(body.postgres).toMatchObject({
      connected: false,
      latencyMs: null,
      error: { code: 'ECONNREFUSED' },
    });
    expect(body.postgres.location).toMatch(/^postgres:\/\/ferry:\*\*\*@127\.0\.0\.1:\d+\/shop$/);
    expect(body.mongodb).toMatchObject({ connected: false, latencyMs: null });
    expect(body.mongodb!.location).toMatch(/^mongodb:\/\/ferry:\*\*\*@127\.0\.0\.1:\d+\/shop$/);
    expect(body.mongodb!.error!.code).not.toBe('');
  });

  it('answers /health/sync 503 with the reason, and /metrics with ferry_status_up 0', async () => {
    const sync = await get('/health/sync');
    expect(sync.statusCode).toBe(503);
    expect(errorResponseSchema.parse(sync.json()).error.message).toMatch(/^cannot read Ferry's state/);
    const metrics = await get('/metrics');
    expect(metrics.statusCode).toBe(200);
    expect(sampleValue(parsePrometheusText(metrics.body), 'ferry_status_up')).toBe(0);
  });

  it('never shows the password', () => {
    expect(bodies.length).toBe(10);
    for (const body of bodies) expect(body).not.toContain(PASSWORD);
  });
});
