import type { Command } from 'commander';
import { runTtlRules, watchTtlRules } from '../../runtime/ttl/ttl-job.js';
import type { TtlRun } from '../../runtime/ttl/ttl-runs.js';
import { schemaFromConfig, targetSchemas } from '../../schema/schema-plan.js';
import { ensureFerryState } from '../../target/ferry-state.js';
import { openTarget } from '../../target/open-target.js';
import { countFlag } from '../confirm.js';
import { commandContext, timed } from '../context.js';
import { emit } from '../output.js';
import { sharedFlag } from '../shared-flags.js';
import { untilStopped } from '../stop-signal.js';

interface TtlFlags {
  readonly schema?: string;
  readonly batchSize?: string;
  readonly watch?: boolean;
  readonly interval?: string;
}

/**
 * `ferry ttl run [--watch [--interval s]] [--batch-size N] [--schema a,b]`: run the plan's TTL
 * rules (the translated `expireAfterSeconds` indexes, partial ones included) once, or with
 * `--watch` every interval until SIGINT or SIGTERM, which lets the batch under way commit and
 * records the run as finished before exiting 0. Each run is recorded in `ferry.ttl_runs`, and
 * `ferry status` shows the last one. Exit 1 when a rule cannot delete its expired rows.
 */
export function registerTtl(program: Command): void {
  const ttl = program.command('ttl').description('TTL jobs: delete rows whose TTL index says they expired');
  ttl
    .command('run')
    .description('delete expired rows of every TTL rule, in small batches, and record the run')
    .addOption(sharedFlag('schemas'))
    // Not the shared --batch-size: here it counts rows per delete, not documents per chunk.
    .option(
      '--batch-size <n>',
      'root rows per delete statement, each its own short transaction (default 1000)',
    )
    .option('--watch', 'keep running: a run every --interval seconds until interrupted')
    .option('--interval <seconds>', 'seconds between runs with --watch (default 60, as MongoDB)')
    .action(async (flags: TtlFlags, command: Command) => {
      const { out, log, config } = await commandContext(command);
      const model = schemaFromConfig(config);
      const schemas = targetSchemas(flags.schema, config.schemas);
      const batchSize = countFlag('--batch-size', flags.batchSize);
      const interval = countFlag('--interval', flags.interval);
      const db = await timed(log, 'target opened', () => openTarget(config.target));
      try {
        await ensureFerryState(db);
        if (flags.watch !== true) {
          const runs: TtlRun[] = [];
          for (const schema of schemas)
            runs.push(
              await runTtlRules(db, model, { schema, ...(batchSize !== undefined && { batchSize }) }),
            );
          emit(out, { runs }, () =>
            model.ttl.length === 0 ? 'ttl: the mapping has no TTL rules' : runs.map(runText).join('\n'),
          );
          return;
        }
        await untilStopped((signal) =>
          watchTtlRules(db, model, {
            schemas,
            signal,
            ...(batchSize !== undefined && { batchSize }),
            ...(interval !== undefined && { intervalMs: interval * 1000 }),
            onRun: ({ run, error }) => {
              if (run !== undefined) out.write(out.json ? JSON.stringify(run) : runText(run));
              else log.warn({ err: error }, 'TTL run failed; trying again at the next interval');
            },
          }),
        );
      } finally {
        await db.close();
      }
    });
}

function runText(run: TtlRun): string {
  const rules = run.rules.map(
    (r) =>
      `  ${r.collection} (${r.table}.${r.column} + ${r.seconds} s, index ${r.source}): ${r.removed} removed in ${r.batches} batch${r.batches === 1 ? '' : 'es'}`,
  );
  return [
    `ttl run ${run.id} on schema ${run.schema}: ${run.removed} row(s) removed (expired before ${run.cutoff})`,
    ...rules,
  ].join('\n');
}
