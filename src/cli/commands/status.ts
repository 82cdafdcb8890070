import type { Command } from 'commander';
import { FerryError } from '../../core/errors.js';
import { redactUri } from '../../core/redact.js';
import { connectPostgres } from '../../target/connect.js';
import { commandContext } from '../context.js';
import { emit } from '../output.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show the target database and the state Ferry keeps in it')
    .action(async (_options, command: Command) => {
      const { out, config } = await commandContext(command);
      if (!config.target) {
        throw new FerryError('no target database given', {
          code: 'TARGET_MISSING',
          category: 'usage',
          hint: 'pass --target postgres://… or set DATABASE_URL',
        });
      }
      const pool = await connectPostgres(config.target);
      try {
        const { rows } = await pool.query<{ version: string; has_state: boolean }>(
          `select current_setting('server_version') as version,
                  exists (select 1 from pg_namespace where nspname = 'ferry') as has_state`,
        );
        const status = {
          target: redactUri(config.target),
          serverVersion: rows[0]!.version,
          ferryState: rows[0]!.has_state,
        };
        emit(out, status, () =>
          [
            `target:          ${status.target}`,
            `server version:  ${status.serverVersion}`,
            `ferry state:     ${status.ferryState ? 'present (schema "ferry")' : 'none yet'}`,
          ].join('\n'),
        );
      } finally {
        await pool.end();
      }
    });
}
