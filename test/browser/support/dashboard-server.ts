import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { type DashboardOptions, dashboardPlugin } from '../../../src/serve/dashboard/plugin.js';

export interface RunningDashboard {
  /** `http://127.0.0.1:<port>/`, the page. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A fastify server with only the dashboard registered, on an ephemeral loopback port: the
 * dashboard's tests need no more of `ferry serve` than that. (Once `buildServer` is merged,
 * this helper can build the whole server instead.)
 */
export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const app = Fastify({ logger: false });
  await app.register(dashboardPlugin, options);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    async close() {
      await app.close();
    },
  };
}
