import type { Command } from 'commander';
import { ExitCode } from '../../core/errors.js';
import { type ReconcileSummary, reconcileGaps, watchGaps } from '../../runtime/reconcile.js';
import { targetOf } from '../../runtime/stores.js';
import { ensureFerryState } from '../../target/ferry-state.js';
import { commandContext } from '../context.js';
import { emit } from '../output.js';
import { openRuntimeStores } from '../runtime-stores.js';
import { untilStopped } from '../stop-signal.js';

interface ReconcileFlags {
  readonly source?: string;
  readonly schema?: string;
  readonly watch?: boolean;
  readonly interval?: string;
}

/**
 * `ferry reconcile [source] [--watch [--interval s]]`: copy each gapped entity's current state
 * from MongoDB to PostgreSQL and close its gap (src/runtime/reconcile.ts). One pass exits 0
 * when no gap is left open, 1 when some are (their copies failed again); `--watch` runs a pass
 * every interval until SIGINT or SIGTERM.
 */
export function registerReconcile(program: Command): void {
  program
    .command('reconcile')
    .description('close recorded gaps: copy each gapped entity’s current MongoDB state to PostgreSQL')
    .argument('[source]', 'the primary: a mongodb:// URI naming the database')
    .option('--source <source>', 'the source (instead of the positional argument)')
    .option('--schema <name>', 'target schema (default: the config’s first schema, else public)')
    .option('--watch', 'keep running: a pass every --interval seconds until interrupted')
    .option('--interval <seconds>', 'seconds between passes with --watch (default 5)')
    .action(async (positional: string | undefined, flags: ReconcileFlags, command: Command) => {
      const given = positional ?? flags.source;
      const { out, log, config } = await commandContext(
        command,
        given === undefined ? {} : { source: given },
      );
      const opened = await openRuntimeStores(config, 'reconcile', flags.schema);
      try {
        await ensureFerryState(targetOf(opened.stores.pg));
        if (flags.watch !== true) {
          const summary = await reconcileGaps(opened.stores);
          emit(out, summary, () => renderSummary(summary));
          if (summary.open > 0) process.exitCode = ExitCode.problem;
          return;
        }
        await untilStopped((signal) =>
          watchGaps(opened.stores, {
            signal,
            intervalMs: Math.max(0.1, Number(flags.interval ?? 5)) * 1000,
            onPass: ({ summary, error }) => {
              if (summary !== undefined) {
                if (out.json) out.write(JSON.stringify(summary));
                else if (summary.seen > 0 || summary.moved > 0) out.write(renderSummary(summary));
              } else log.warn({ err: error }, 'reconcile pass failed; trying again at the next interval');
            },
          }),
        );
      } finally {
        await opened.close();
      }
    });
}

function renderSummary(s: ReconcileSummary): string {
  const moved = s.moved > 0 ? `, ${s.moved} moved in from MongoDB` : '';
  return `reconcile: ${s.seen} gap${s.seen === 1 ? '' : 's'} seen${moved}, ${s.closed} closed (${s.upserted} copied, ${s.deleted} deleted, ${s.rejected} rejected), ${s.open} still open`;
}
