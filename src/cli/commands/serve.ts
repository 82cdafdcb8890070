import type { Command } from 'commander';
import { FerryError } from '../../core/errors.js';
import { redactUri } from '../../core/redact.js';
import { parsePlan } from '../../mapping/validate-plan.js';
import { buildServer, checkBinding, type FerryServePlugin } from '../../serve/server.js';
import { resolveThresholds } from '../../serve/thresholds.js';
import { countFlag } from '../confirm.js';
import { commandContext } from '../context.js';
import { sharedFlag } from '../shared-flags.js';

interface ServeFlags {
  readonly port: string;
  readonly host: string;
  readonly token?: string;
  readonly schema?: string;
  readonly showValues?: boolean;
}

/** The environment variable that carries the token, so it need not appear on a command line. */
const TOKEN_ENV = 'FERRY_SERVE_TOKEN';

/**
 * `ferry serve [--port 7070] [--host 127.0.0.1] [--token …]`: the health endpoints, `/metrics`
 * and the plugins given (the dashboard) over HTTP, until SIGTERM or SIGINT, which close the
 * server after the requests in flight. It listens on loopback unless told otherwise; any other
 * host needs a bearer token (exit 2 without one). Reports on the target's schema `ferry`, and
 * on MongoDB when the source is a live `mongodb://host/database`.
 */
export function registerServe(program: Command, plugins: readonly FerryServePlugin[] = []): void {
  program
    .command('serve')
    .description('serve health endpoints, Prometheus metrics and the dashboard over HTTP')
    .option('--port <n>', 'port to listen on (0: any free port)', '7070')
    .option('--host <host>', 'address to listen on; beyond loopback a token is required', '127.0.0.1')
    .option('--token <token>', `bearer token every endpoint but /health requires (default: $${TOKEN_ENV})`)
    .option(
      '--source <uri>',
      'the live MongoDB to report on: mongodb://host/database (default: config source)',
    )
    .option(
      '--schema <name>',
      'target schema of the runtime (default: the config’s first schema, else public)',
    )
    // What verify --show-values prints, the pages may show (the dashboard's differences).
    .addOption(sharedFlag('showValues'))
    .action(async (flags: ServeFlags & { source?: string }, command: Command) => {
      const { out, log, config } = await commandContext(
        command,
        flags.source === undefined ? {} : { source: flags.source },
      );
      const port = countFlag('--port', flags.port, 0)!;
      if (port > 65_535)
        throw new FerryError(`--port must be at most 65535, not "${flags.port}"`, {
          code: 'USAGE_BAD_NUMBER',
          category: 'usage',
        });
      const token = flags.token ?? (process.env[TOKEN_ENV] || undefined);
      checkBinding(flags.host, token);
      const target = config.target?.trim();
      if (target === undefined || !/^postgres(ql)?:\/\//i.test(target))
        throw new FerryError('ferry serve needs a PostgreSQL server as the target', {
          code: 'RUNTIME_TARGET_NOT_POSTGRES',
          category: 'usage',
          hint: 'give --target or DATABASE_URL as postgres://user:password@host:5432/database',
        });
      // A dump or a file is no store to watch; only a live MongoDB is reported on.
      const source =
        config.source !== undefined && /^mongodb(\+srv)?:\/\//i.test(config.source)
          ? config.source
          : undefined;
      const app = await buildServer({
        target,
        ...(source !== undefined && { source }),
        schema: flags.schema ?? config.schemas?.[0] ?? 'public',
        domains: config.domains ?? {},
        ...(config.mapping !== undefined && { plan: parsePlan(config.mapping) }),
        thresholds: resolveThresholds(config.serve?.thresholds),
        ...(token !== undefined && { token }),
        showValues: flags.showValues === true,
        plugins,
      });
      // Booted before listening, so a plugin that fails to load is not reported as a port problem.
      try {
        await app.ready();
      } catch (error) {
        await app.close().catch(() => {});
        throw error;
      }
      let address: string;
      try {
        address = await app.listen({ host: flags.host, port });
      } catch (cause) {
        await app.close();
        throw new FerryError(
          `ferry serve cannot listen on ${flags.host}:${port}: ${(cause as Error).message}`,
          {
            code: 'SERVE_LISTEN_FAILED',
            category: 'environment',
            cause,
            hint: 'pick another --port, or stop what holds this one',
          },
        );
      }
      const listening = {
        url: address,
        target: redactUri(target),
        ...(source && { source: redactUri(source) }),
      };
      out.write(out.json ? JSON.stringify({ listening }) : `ferry serve: listening on ${address}`);
      log.info({ ...listening, token: token !== undefined }, 'serving');
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          log.info('stopping: finishing the requests in flight');
          app.close().then(resolve, resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
