import { redactUri } from '../../core/redact.js';
import type { QueryResult, TargetDatabase } from '../../target/target-database.js';
import type { FerryServePlugin } from '../server.js';
import { dashboardPlugin } from './plugin.js';

/**
 * The dashboard as `ferry serve` mounts it: over the server's own pool, behind its token
 * check, with its `--show-values` setting. The pool is the server's; the dashboard only reads.
 *
 * @example
 * const app = await buildServer({ target: process.env.DATABASE_URL!, plugins: [dashboardServePlugin] });
 * await app.listen({ host: '127.0.0.1', port: 7070 });   // the page at http://127.0.0.1:7070/
 */
export const dashboardServePlugin: FerryServePlugin = async (app, { ferry }) => {
  const target: Pick<TargetDatabase, 'query' | 'location'> = {
    location: redactUri(ferry.postgresLocation),
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const result = await ferry.pg.query(sql, params === undefined ? undefined : [...params]);
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
    },
  };
  await app.register(dashboardPlugin, { target, showValues: ferry.showValues });
};
