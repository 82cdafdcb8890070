import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardPlugin } from '../../../src/serve/dashboard/plugin.js';
import { openTarget } from '../../../src/target/open-target.js';
import type { TargetDatabase } from '../../../src/target/target-database.js';
import { createTestDatabase, postgresUrl } from '../../support/services.js';
import { TcpProxy } from '../runtime/support.js';

/**
 * The target going away under an open page: the stream says the reads fail (without the
 * password, which the connection string holds), and goes on with snapshots once it is back.
 */
describe.skipIf(!postgresUrl())('the dashboard while the target is unreachable', () => {
  let target: { url: string; drop: () => Promise<void> };
  let proxy: TcpProxy;
  let db: TargetDatabase;

  beforeAll(async () => {
    target = await createTestDatabase('dash_outage');
    const proxied = await TcpProxy.for(target.url);
    proxy = proxied.proxy;
    db = await openTarget(proxied.url, { connectTimeoutMs: 1000 });
  });
  afterAll(async () => {
    await proxy?.start().catch(() => {});
    await db?.close();
    await proxy?.stop();
    await target?.drop();
  });

  it('streams a problem event without credentials, then snapshots again when the target is back', async () => {
    const password = decodeURIComponent(new URL(target.url).password);
    const server = Fastify();
    await server.register(dashboardPlugin, { target: db, intervalMs: 200 });
    const address = await server.listen({ host: '127.0.0.1', port: 0 });
    try {
      const response = await fetch(`${address}/api/dashboard/events`);
      const reader = response.body!.getReader();
      let text = '';
      const until = async (pattern: RegExp, from: number) => {
        const deadline = Date.now() + 120_000;
        while (!pattern.test(text.slice(from))) {
          if (Date.now() > deadline) throw new Error(`no ${pattern} in ${text.slice(from, from + 500)}`);
          text += new TextDecoder().decode((await reader.read()).value);
        }
      };
      await until(/event: snapshot/, 0);
      const down = text.length;
      await proxy.stop();
      await until(/event: problem\ndata: .*\n\n/, down);
      const problem = text.slice(down).match(/event: problem\ndata: (.*)\n\n/)![1]!;
      expect(JSON.parse(problem).message).toEqual(expect.any(String));
      expect(text).not.toContain(password);
      const up = text.length;
      await proxy.start();
      await until(/event: snapshot/, up);
      await reader.cancel();
    } finally {
      await server.close();
    }
  }, 300_000);
});
