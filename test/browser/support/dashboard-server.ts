import type { AddressInfo } from 'node:net';
import { dashboardServePlugin } from '../../../src/serve/dashboard/serve-plugin.js';
import { buildServer } from '../../../src/serve/server.js';
import { openTarget } from '../../../src/target/open-target.js';
import type { TargetDatabase } from '../../../src/target/target-database.js';
import { type Browser, openBrowser } from './browser.js';

export interface RunningDashboard {
  /** `http://127.0.0.1:<port>/`, the page. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The server `ferry serve` runs (`buildServer` with the dashboard mounted as the CLI mounts
 * it), on an ephemeral loopback port.
 */
export async function startDashboard(options: {
  readonly targetUrl: string;
  readonly showValues?: boolean;
}): Promise<RunningDashboard> {
  const app = await buildServer({
    target: options.targetUrl,
    showValues: options.showValues === true,
    plugins: [dashboardServePlugin],
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    async close() {
      await app.close();
    },
  };
}

/** What a browser test looks at: the target opened as `ferry status` opens it, the dashboard on it, and a browser. */
export interface DashboardSession {
  readonly db: TargetDatabase;
  readonly dashboard: RunningDashboard;
  readonly browser: Browser;
  close(): Promise<void>;
}

/** Open the target, serve the dashboard on it and open a browser; `close()` undoes all three. */
export async function openDashboardSession(targetUrl: string): Promise<DashboardSession> {
  const db = await openTarget(targetUrl);
  const dashboard = await startDashboard({ targetUrl });
  const browser = await openBrowser();
  return {
    db,
    dashboard,
    browser,
    async close() {
      await browser.close();
      await dashboard.close();
      await db.close();
    },
  };
}
