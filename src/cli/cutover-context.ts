import type { ResolvedConfig } from '../config/load.js';
import { FerryError } from '../core/errors.js';
import type { CutoverContext } from '../runtime/cutover/cutover.js';
import { cutoverLimits } from '../runtime/cutover/cutover-config.js';
import { registerDomains } from '../runtime/domains.js';
import { targetOf } from '../runtime/stores.js';
import { connectPostgres } from '../target/connect.js';
import { ensureFerryState } from '../target/ferry-state.js';
import { type OpenedRuntimeStores, openRuntimeStores } from './runtime-stores.js';

/**
 * The cutover commands' context, opened from the config: the PostgreSQL target always, and
 * the live MongoDB too when the config (or `--source`) names one, since a step that moves the
 * primary drains gaps or the outbox between both stores. `close()` everything.
 *
 * @example
 * declare const config: ResolvedConfig;
 * const { context, close } = await openCutoverContext(config, 'cutover');
 */
export async function openCutoverContext(
  config: ResolvedConfig,
  command: string,
  schema?: string,
): Promise<{ context: CutoverContext; sourceUri?: string; targetUrl: string; close(): Promise<void> }> {
  const targetUrl = config.target?.trim();
  if (targetUrl === undefined || !/^postgres(ql)?:\/\//i.test(targetUrl))
    throw new FerryError(`ferry ${command} needs a PostgreSQL server as the target`, {
      code: 'RUNTIME_TARGET_NOT_POSTGRES',
      category: 'usage',
      hint: 'give --target or DATABASE_URL as postgres://user:password@host:5432/database',
    });
  const limits = cutoverLimits(config.cutover);
  const live = config.source !== undefined && /^mongodb(\+srv)?:\/\//i.test(config.source);
  let opened: OpenedRuntimeStores | undefined;
  if (live) opened = await openRuntimeStores(config, command, schema);
  const pool = opened?.stores.pg ?? (await connectPostgres(targetUrl, { max: 4 }));
  try {
    await ensureFerryState(targetOf(pool));
    await registerDomains(targetOf(pool), config.domains ?? {});
  } catch (error) {
    await (opened?.close() ?? pool.end());
    throw error;
  }
  return {
    context: {
      pool,
      schema: schema ?? config.schemas?.[0] ?? 'public',
      limits,
      ...(opened !== undefined && { stores: opened.stores }),
    },
    ...(opened !== undefined && { sourceUri: opened.sourceUri }),
    targetUrl,
    close: async () => {
      if (opened !== undefined) await opened.close();
      else await pool.end().catch(() => {});
    },
  };
}
