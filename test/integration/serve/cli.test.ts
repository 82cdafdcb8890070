import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorResponseSchema, livenessSchema, syncHealthSchema } from '../../../src/serve/index.js';
import { runFerry, spawnFerry } from '../../support/cli.js';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text.js';
import { createTestDatabase, postgresUrl } from '../../support/services.js';

const available = postgresUrl() !== undefined;
const TOKEN = 'cli-serve-token-93ad';

/** A running `ferry serve` and the URL it printed once listening. */
async function startServe(
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawnFerry(['serve', '--json', '--port', '0', ...args], cwd, { env, pipe: true });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((l) => l.includes('"listening"'));
      if (line !== undefined) resolve((JSON.parse(line) as { listening: { url: string } }).listening.url);
    });
    child.on('exit', (code) => reject(new Error(`ferry serve exited ${code} before listening: ${stderr}`)));
  });
  return { child, url, stderr: () => stderr };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/** The real CLI listening on a port: what a user, a load balancer and Prometheus see. */
describe.skipIf(!available)('ferry serve as a process', () => {
  let target: { url: string; drop: () => Promise<void> };
  let cwd: string;

  beforeAll(async () => {
    target = await createTestDatabase('serve_cli');
    cwd = await mkdtemp(path.join(tmpdir(), 'ferry-serve-cli-'));
  }, 120_000);

  afterAll(async () => {
    await target?.drop();
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  it('listens on loopback with the token from FERRY_SERVE_TOKEN, guards every endpoint but /health (the dashboard too), and stops cleanly on SIGTERM', async () => {
    const serve = await startServe(['--target', target.url], cwd, { FERRY_SERVE_TOKEN: TOKEN });
    try {
      expect(new URL(serve.url).hostname).toBe('127.0.0.1');
      const health = await fetch(`${serve.url}/health`);
      expect(health.status).toBe(200);
      livenessSchema.parse(await health.json());

      const refused = await fetch(`${serve.url}/health/sync`);
      expect(refused.status).toBe(401);
      expect(errorResponseSchema.parse(await refused.json()).error.code).toBe('SERVE_UNAUTHORIZED');
      const wrong = await fetch(`${serve.url}/metrics`, { headers: { authorization: 'Bearer nope' } });
      expect(wrong.status).toBe(401);

      const authorization = { authorization: `Bearer ${TOKEN}` };
      const sync = await fetch(`${serve.url}/health/sync`, { headers: authorization });
      expect(sync.status).toBe(200);
      expect(syncHealthSchema.parse(await sync.json()).status).toBe('healthy');
      const metrics = await fetch(`${serve.url}/metrics`, { headers: authorization });
      expect(metrics.status).toBe(200);
      const body = await metrics.text();
      expect(sampleValue(parsePrometheusText(body), 'ferry_status_up')).toBe(1);
      expect(body).not.toContain(new URL(target.url).password);
      // A database without schema ferry is not ready.
      expect((await fetch(`${serve.url}/health/ready`, { headers: authorization })).status).toBe(503);
      // The dashboard is mounted, behind the same token.
      expect((await fetch(`${serve.url}/`)).status).toBe(401);
      const page = await fetch(`${serve.url}/`, { headers: authorization });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>Ferry dashboard</title>');
      const snapshot = await fetch(`${serve.url}/api/dashboard/snapshot`, { headers: authorization });
      expect(snapshot.status).toBe(200);
      expect(await snapshot.text()).not.toContain(new URL(target.url).password);
    } finally {
      serve.child.kill('SIGTERM');
    }
    expect(await exitOf(serve.child)).toBe(0);
    await expect(fetch(`${serve.url}/health`)).rejects.toThrow();
    expect(serve.stderr()).not.toContain(new URL(target.url).password);
  });

  it('refuses to listen beyond loopback without a token: exit 2 and a message that says what to do', async () => {
    const result = await runFerry(['serve', '--host', '0.0.0.0', '--port', '0', '--target', target.url], {
      cwd,
      env: { FERRY_SERVE_TOKEN: '' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('refuses to listen on 0.0.0.0 without a bearer token');
  });

  it('listens beyond loopback once a token is given', async () => {
    const serve = await startServe(['--host', '0.0.0.0', '--token', TOKEN, '--target', target.url], cwd);
    try {
      const port = new URL(serve.url).port;
      expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(401);
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    } finally {
      serve.child.kill('SIGTERM');
    }
    expect(await exitOf(serve.child)).toBe(0);
  });

  it('exits 3 when the port is taken, and 2 for a port that is no port or an embedded target', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((holder.address() as net.AddressInfo).port);
      const taken = await runFerry(['serve', '--port', port, '--target', target.url], { cwd });
      expect(taken.code, taken.stderr).toBe(3);
      expect(taken.stderr).toContain(`cannot listen on 127.0.0.1:${port}`);
    } finally {
      holder.close();
    }
    const badPort = await runFerry(['serve', '--port', '70000', '--target', target.url], { cwd });
    expect(badPort.code).toBe(2);
    const embedded = await runFerry(['serve', '--port', '0'], { cwd, env: { DATABASE_URL: '' } });
    expect(embedded.code).toBe(2);
    expect(embedded.stderr).toContain('needs a PostgreSQL server');
  });
});
