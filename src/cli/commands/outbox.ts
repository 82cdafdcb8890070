import type { Command } from 'commander';
import { FerryError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { redriveOutbox } from '../../runtime/outbox/queue.js';
import { type OutboxBatchReport, type OutboxWorkSummary, workOutbox } from '../../runtime/outbox/worker.js';
import { targetOf } from '../../runtime/stores.js';
import { connectPostgres } from '../../target/connect.js';
import { ensureFerryState } from '../../target/ferry-state.js';
import { countFlag } from '../confirm.js';
import { commandContext } from '../context.js';
import { emit, type Output } from '../output.js';
import { openRuntimeStores } from '../runtime-stores.js';

interface WorkFlags {
  readonly source?: string;
  readonly schema?: string;
  readonly batch?: string;
  readonly poll?: string;
  readonly lease?: string;
  readonly maxAttempts?: string;
  readonly retention?: string;
  readonly drain?: boolean;
}

interface RedriveFlags {
  readonly schema?: string;
  readonly collection?: string;
  readonly id?: string;
}

/**
 * `ferry outbox work` (the worker that feeds MongoDB while PostgreSQL is the primary; see
 * src/runtime/outbox/worker.ts) and `ferry outbox redrive` (dead letters back to the queue).
 * `work` runs until SIGINT or SIGTERM, then settles or gives back its claims and exits 0;
 * with `--drain` it stops once the queue is empty, and exits 1 if dead events remain.
 */
export function registerOutbox(program: Command): void {
  const outbox = program
    .command('outbox')
    .description('the transactional outbox that keeps MongoDB fed while PostgreSQL is the primary');
  outbox
    .command('work')
    .description('deliver captured PostgreSQL changes to MongoDB, entity by entity, until stopped')
    .argument('[source]', 'MongoDB, the store to feed: a mongodb:// URI naming the database')
    .option('--source <source>', 'the MongoDB to feed (instead of the positional argument)')
    .option('--schema <name>', 'target schema (default: the config’s first schema, else public)')
    .option('--batch <n>', 'entities claimed per batch (default 500)')
    .option('--poll <ms>', 'poll interval while idle; a notification wakes the worker sooner (default 1000)')
    .option('--lease <seconds>', 'how long a claim holds before another worker may take it over (default 30)')
    .option('--max-attempts <n>', 'failed deliveries of an entity before its events go dead (default 10)')
    .option(
      '--retention <seconds>',
      'how long delivered events are kept before they are deleted (default 3600)',
    )
    .option('--drain', 'stop once no event is pending; exit 1 if dead events remain')
    .action(async (positional: string | undefined, flags: WorkFlags, command: Command) => {
      const given = positional ?? flags.source;
      const { out, log, config } = await commandContext(
        command,
        given === undefined ? {} : { source: given },
      );
      const batchSize = countFlag('--batch', flags.batch);
      const pollMs = countFlag('--poll', flags.poll, 10);
      const lease = countFlag('--lease', flags.lease);
      const maxAttempts = countFlag('--max-attempts', flags.maxAttempts);
      const retention = countFlag('--retention', flags.retention, 0);
      const opened = await openRuntimeStores(config, 'outbox work', flags.schema);
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await ensureFerryState(targetOf(opened.stores.pg));
        const summary = await workOutbox(opened.stores, {
          signal: stop.signal,
          drain: flags.drain === true,
          ...(batchSize !== undefined && { batchSize }),
          ...(pollMs !== undefined && { pollMs }),
          ...(lease !== undefined && { leaseMs: lease * 1000 }),
          ...(maxAttempts !== undefined && { maxAttempts }),
          ...(retention !== undefined && { retentionMs: retention * 1000 }),
          onBatch: (report) => logBatch(out, log, report),
        });
        emit(out, summary, () => renderSummary(summary));
        if (flags.drain === true && summary.deadInQueue > 0) {
          // Reported, not thrown: the summary above stays the one JSON document on stdout.
          const problem = new FerryError(`${summary.deadInQueue} dead event(s) are left in the outbox`, {
            code: 'OUTBOX_DEAD_LETTERS',
            category: 'problem',
            hint: 'see their errors in ferry.outbox (status dead); fix the cause, then `ferry outbox redrive`',
          });
          out.error(`ferry: ${problem.message}`);
          process.exitCode = problem.exitCode;
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await opened.close();
      }
    });
  outbox
    .command('redrive')
    .description('queue dead events again (after their cause is fixed), all or by --collection / --id')
    .option('--schema <name>', 'target schema (default: the config’s first schema, else public)')
    .option('--collection <name>', 'only this collection’s dead events')
    .option('--id <id>', 'only this entity’s: its _id as text (an ObjectId’s hex) or its key as stored')
    .action(async (flags: RedriveFlags, command: Command) => {
      const { out, config } = await commandContext(command);
      const target = config.target?.trim();
      if (target === undefined || !/^postgres(ql)?:\/\//i.test(target))
        throw new FerryError('ferry outbox redrive needs a PostgreSQL server as the target', {
          code: 'RUNTIME_TARGET_NOT_POSTGRES',
          category: 'usage',
          hint: 'give --target or DATABASE_URL as postgres://user:password@host:5432/database',
        });
      const pool = await connectPostgres(target, { max: 1 });
      try {
        const db = targetOf(pool);
        await ensureFerryState(db);
        const schema = flags.schema ?? config.schemas?.[0] ?? 'public';
        const redriven = await redriveOutbox(db, {
          schema,
          ...(flags.collection !== undefined && { collection: flags.collection }),
          ...(flags.id !== undefined && { id: flags.id }),
        });
        emit(out, { redriven }, () => `redrive: ${redriven} dead event(s) queued again`);
      } finally {
        await pool.end().catch(() => {});
      }
    });
}

function logBatch(out: Output, log: Logger, report: OutboxBatchReport): void {
  switch (report.kind) {
    case 'delivered':
      for (const f of report.outcome.failures)
        log.warn({ collection: f.collection, key: f.docKey, error: f.error }, 'outbox delivery failed');
      if (report.outcome.dead > 0)
        out.error(`outbox: ${report.outcome.dead} event(s) went dead (see ferry.outbox, status dead)`);
      return;
    case 'backoff':
      log.warn(
        { err: report.error, delayMs: report.delayMs },
        'outbox batch failed as a whole; claims given back, trying again',
      );
      return;
    case 'cleaned':
      return;
  }
}

function renderSummary(s: OutboxWorkSummary): string {
  return `outbox: ${s.delivered} event(s) delivered as ${s.entities} entity write(s), ${s.failed} failed delivery(ies), ${s.dead} went dead; ${s.pending} pending and ${s.deadInQueue} dead in the queue`;
}
