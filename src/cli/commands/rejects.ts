import type { Command } from 'commander';
import { ExitCode, FerryError } from '../../core/errors.js';
import { renderTable } from '../../core/render-table.js';
import { listRejects, type RejectFilter, retryRejects, showReject } from '../../load/rejects.js';
import { retryFromSource } from '../../load/retry-from-source.js';
import { mappingFromConfig } from '../../schema/schema-plan.js';
import { openTarget } from '../../target/open-target.js';
import type { TargetDatabase } from '../../target/target-database.js';
import { commandContext } from '../context.js';
import { emit } from '../output.js';
import { openConfiguredSource, type SourceFlags, withSourceOptions } from '../source-options.js';
import { sourcePlace } from './backfill.js';

interface FilterFlags {
  readonly schema?: string;
  readonly collection?: string;
  readonly id?: string;
  readonly all?: boolean;
  readonly limit?: string;
}

/**
 * `ferry rejects list|show|retry`: see what the backfill turned away and why, and load it
 * again after fixing the mapping or the target. A thin shell over src/load/rejects.ts.
 */
export function registerRejects(program: Command): void {
  const rejects = program.command('rejects').description('inspect and retry documents the backfill rejected');
  withFilter(rejects.command('list').description('list rejects (open ones unless --all)'))
    .option('--all', 'include resolved rejects')
    .option('--limit <n>', 'at most this many')
    .action(async (flags: FilterFlags, command: Command) => {
      const { out, config } = await commandContext(command);
      await withTarget(config.target, async (db) => {
        const rows = await listRejects(db, filterOf(flags));
        emit(out, { rejects: rows }, () =>
          rows.length === 0
            ? 'no rejects'
            : renderTable(
                ['id', 'schema', 'collection', '_id', 'source', 'stage', 'code', 'reason', 'resolved'],
                rows.map((r) => [
                  r.id,
                  r.schema,
                  r.collection,
                  r.docId ?? '-',
                  sourcePlace(r) || '-',
                  r.stage,
                  r.code,
                  shorten(r.reason),
                  r.resolvedAt ?? '-',
                ]),
              ),
        );
      });
    });
  rejects
    .command('show')
    .description('one reject with its raw document (Extended JSON, the source text, or base64 bytes)')
    .argument('<id>', 'the reject id from `ferry rejects list`')
    .action(async (id: string, _flags: unknown, command: Command) => {
      const { out, config } = await commandContext(command);
      await withTarget(config.target, async (db) => {
        const reject = await showReject(db, idNumber(id));
        if (reject === undefined)
          throw new FerryError(`no reject with id ${id}`, {
            code: 'REJECT_NOT_FOUND',
            category: 'usage',
            hint: 'see `ferry rejects list --all`',
          });
        emit(out, reject, () =>
          [
            `reject ${reject.id}: ${reject.collection} _id ${reject.docId ?? '(unknown)'} in schema ${reject.schema}`,
            ...(sourcePlace(reject) ? [`source: ${sourcePlace(reject)}`] : []),
            `stage ${reject.stage}, ${reject.code}${reject.path ? ` at ${reject.path}` : ''}: ${reject.reason}`,
            `created ${reject.createdAt}${reject.resolvedAt ? `, resolved ${reject.resolvedAt}` : ', open'}`,
            `raw (${reject.rawEncoding}):`,
            reject.raw,
          ].join('\n'),
        );
      });
    });
  withSourceOptions(
    withFilter(
      rejects
        .command('retry')
        .description(
          'load open rejects again: with the current mapping, or with --from-source re-read from the fixed source',
        ),
    ),
  )
    .option(
      '--from-source',
      're-read the rejected _ids from the source (after fixing the source) and load them',
    )
    .action(async (flags: FilterFlags & SourceFlags & { fromSource?: boolean }, command: Command) => {
      const { out, config } = await commandContext(
        command,
        flags.source === undefined ? {} : { source: flags.source },
      );
      const plan = mappingFromConfig(config);
      if (flags.fromSource === true) {
        const source = await openConfiguredSource(config, flags);
        try {
          await withTarget(config.target, async (db) => {
            const result = await retryFromSource(db, plan, source, filterOf(flags));
            emit(out, result, () =>
              [
                `from the source: resolved ${result.resolved.length}, still rejected ${result.stillRejected.length}, not in the source ${result.notInSource.length}`,
                ...result.stillRejected.map((r) => `  ${r.id} [${r.stage}] ${r.reason}`),
                ...result.notInSource.map(
                  (id) => `  ${id}: the source has no document with this _id (or none was recovered)`,
                ),
              ].join('\n'),
            );
            if (result.stillRejected.length + result.notInSource.length > 0)
              process.exitCode = ExitCode.problem;
          });
        } finally {
          await source.close();
        }
        return;
      }
      await withTarget(config.target, async (db) => {
        const result = await retryRejects(db, plan, filterOf(flags));
        emit(out, result, () =>
          [
            `resolved ${result.resolved.length}, still rejected ${result.stillRejected.length}, not retryable ${result.notRetryable.length}${result.notRetryable.length > 0 ? ' (read rejects: fix the source, then `ferry rejects retry --from-source`)' : ''}`,
            ...result.stillRejected.map((r) => `  ${r.id} [${r.stage}] ${r.reason}`),
          ].join('\n'),
        );
        if (result.stillRejected.length + result.notRetryable.length > 0) process.exitCode = ExitCode.problem;
      });
    });
}

function withFilter(command: Command): Command {
  return command
    .option('--schema <name>', 'only rejects of this target schema')
    .option('--collection <name>', 'only rejects of this collection')
    .option('--id <ids>', 'only these reject ids, comma-separated');
}

function filterOf(flags: FilterFlags): RejectFilter {
  return {
    ...(flags.schema === undefined ? {} : { schema: flags.schema }),
    ...(flags.collection === undefined ? {} : { collection: flags.collection }),
    ...(flags.id === undefined ? {} : { ids: flags.id.split(',').map(idNumber) }),
    ...(flags.all === true ? { all: true } : {}),
    ...(flags.limit === undefined ? {} : { limit: idNumber(flags.limit) }),
  };
}

function idNumber(text: string): number {
  const n = Number(text.trim());
  if (!Number.isSafeInteger(n) || n < 0)
    throw new FerryError(`"${text}" is not a number`, { code: 'USAGE_BAD_NUMBER', category: 'usage' });
  return n;
}

async function withTarget(url: string | undefined, fn: (db: TargetDatabase) => Promise<void>): Promise<void> {
  const db = await openTarget(url);
  try {
    await fn(db);
  } catch (error) {
    // 42P01: schema ferry has no rejects table yet, so nothing was ever rejected here.
    if ((error as { sqlState?: string }).sqlState === '42P01')
      throw new FerryError('this target has no Ferry state yet', {
        code: 'STATE_MISSING',
        category: 'usage',
        hint: 'run `ferry backfill` first',
      });
    throw error;
  } finally {
    await db.close();
  }
}

function shorten(text: string): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}
