import type { Command } from 'commander';
import { ExitCode, FerryError } from '../../core/errors.js';
import { backfill } from '../../load/backfill.js';
import { isFinal } from '../../load/collection-phase.js';
import { type BackfillProgress, type BackfillSummary, DEFAULT_BATCH_SIZE } from '../../load/types.js';
import { mappingFromConfig, targetSchemas } from '../../schema/schema-plan.js';
import { openTarget } from '../../target/open-target.js';
import { confirmReload, countFlag, listFlag } from '../confirm.js';
import { commandContext } from '../context.js';
import { emit, renderTable } from '../output.js';
import { createProgress, type ProgressReporter } from '../progress.js';
import {
  openConfiguredSource,
  type SourceFlags,
  sourceLocation,
  withSourceOptions,
} from '../source-options.js';

interface BackfillFlags extends SourceFlags {
  readonly only?: string;
  readonly schema?: string;
  readonly resume?: boolean;
  readonly force?: boolean;
  readonly yes?: boolean;
  readonly dryRun?: boolean;
  readonly batchSize?: string;
  readonly parallel?: string;
  readonly maxRejects?: string;
}

/**
 * `ferry backfill`: a thin shell over `backfill()` (src/load). Parses and checks flags, asks
 * before `--force`, shows progress, prints the summary, and maps the outcome to an exit code:
 * 0 loaded, 1 rejects over `--max-rejects` or a collection failed, 2 bad usage, 3 environment.
 */
export function registerBackfill(program: Command): void {
  withSourceOptions(
    program
      .command('backfill')
      .description('load the source into PostgreSQL through the mapping (resumable, exactly once)')
      .argument('[source]', 'mongodb:// URI, mongodump directory or archive, or JSON file(s)'),
  )
    .option('--only <collections>', 'load only these collections, comma-separated')
    .option('--schema <names>', 'target schema(s), comma-separated (default: config schemas, else public)')
    .option('--resume', 'continue from the checkpoints (the default)')
    .option('--force', 'empty the tables, checkpoints and rejects of the collections and load again')
    .option('--yes', 'confirm --force without a prompt')
    .option('--dry-run', 'read and transform everything, report counts and rejects, write nothing')
    .option(
      '--batch-size <n>',
      `documents per chunk, one transaction per chunk and schema (default ${DEFAULT_BATCH_SIZE})`,
    )
    .option('--parallel <n>', 'collections loaded at once, each on its own connection', '1')
    .option('--max-rejects <n>', 'stop with exit 1 once more documents than this are rejected')
    .action(async (positional: string | undefined, flags: BackfillFlags, command: Command) => {
      const given = sourceLocation(positional, flags);
      const { out, config } = await commandContext(command, given === undefined ? {} : { source: given });
      const plan = mappingFromConfig(config);
      const schemas = targetSchemas(flags.schema, config.schemas);
      const batchSize = countFlag('--batch-size', flags.batchSize) ?? config.batchSize ?? DEFAULT_BATCH_SIZE;
      const parallel = countFlag('--parallel', flags.parallel) ?? 1;
      const maxRejects = countFlag('--max-rejects', flags.maxRejects, 0);
      if (flags.force === true && flags.dryRun === true)
        throw new FerryError('--force and --dry-run contradict each other', {
          code: 'USAGE_CONFLICT',
          category: 'usage',
        });
      if (flags.force === true) await confirmReload(out, schemas, flags.yes === true);
      const only = listFlag(flags.only);
      const source = await openConfiguredSource(config, flags);
      const target =
        flags.dryRun === true ? undefined : await openTarget(config.target, { max: parallel + 1 });
      const progress = createProgress({ isTerminal: process.stderr.isTTY === true, enabled: !out.json });
      const controller = new AbortController();
      const interrupt = () => controller.abort();
      process.once('SIGINT', interrupt);
      let summary: BackfillSummary;
      try {
        summary = await backfill({
          source,
          ...(target ? { target } : {}),
          plan,
          schemas,
          batchSize,
          parallel,
          ...(only ? { only } : {}),
          ...(maxRejects === undefined ? {} : { maxRejects }),
          force: flags.force === true,
          dryRun: flags.dryRun === true,
          signal: controller.signal,
          onProgress: showBackfillProgress(progress),
        });
      } finally {
        process.off('SIGINT', interrupt);
        progress.stop();
        await source.close();
        await target?.close();
      }
      emit(out, summary, () => renderSummary(summary));
      if (!out.json) for (const line of rejectLines(summary)) out.error(line);
      if (!summary.ok) process.exitCode = ExitCode.problem;
    });
}

/**
 * Feed backfill progress into a progress reporter (bars on a terminal, JSON lines otherwise).
 *
 * @example
 * declare const options: BackfillOptions;
 * await backfill({ ...options, onProgress: showBackfillProgress(createProgress({ isTerminal: true })) });
 */
export function showBackfillProgress(progress: ProgressReporter): (p: BackfillProgress) => void {
  return (p) => {
    progress.update({
      collection: p.collection,
      done: p.read,
      rejected: p.rejected,
      ...(p.total === undefined ? {} : { total: p.total }),
    });
    if (isFinal(p.phase)) progress.finish(p.collection);
  };
}

/** The summary for people: one row per collection and schema, then what else to know. */
export function renderSummary(summary: BackfillSummary): string {
  const rows = summary.collections.map((c) => [
    c.collection,
    c.schema,
    c.phase,
    c.read,
    c.migrated,
    c.rejected,
    Object.values(c.rows).reduce((sum, n) => sum + n, 0),
    `${(c.durationMs / 1000).toFixed(1)}s`,
    c.docsPerSecond,
  ]);
  // Rows per table get a table of their own: a collection can fan out into many child tables.
  const tableRows = summary.collections.flatMap((c) =>
    Object.entries(c.rows).map(([table, n]) => [c.schema, table, c.collection, n] as const),
  );
  const lines = [
    renderTable(
      ['collection', 'schema', 'state', 'read', 'migrated', 'rejected', 'rows written', 'time', 'docs/s'],
      rows,
    ),
    '',
    ...(tableRows.length > 0
      ? [renderTable(['schema', 'table', 'collection', 'rows written'], tableRows), '']
      : []),
    summary.dryRun
      ? 'dry run: nothing was written'
      : summary.wroteNothing
        ? 'nothing new to load: no row was written'
        : `run ${summary.runId}: loaded in ${(summary.durationMs / 1000).toFixed(1)}s`,
  ];
  const unbalanced = summary.collections.filter((c) => c.migrated + c.rejected !== c.read);
  lines.push(
    unbalanced.length === 0
      ? 'migrated + rejected = read for every collection'
      : `COUNTS DO NOT ADD UP for ${unbalanced.map((c) => `${c.collection}@${c.schema}`).join(', ')}`,
  );
  if (summary.unmapped.length > 0)
    lines.push(`not in the mapping, not loaded: ${summary.unmapped.join(', ')}`);
  if (summary.rejectsOverLimit)
    lines.push('stopped: more rejects than --max-rejects allows (see `ferry rejects list`)');
  for (const c of summary.collections)
    if (c.error) lines.push(`${c.collection}@${c.schema} failed: ${c.error.message}`);
  for (const p of summary.afterLoad.problems) lines.push(`after-load in ${p.schema} failed: ${p.message}`);
  return lines.join('\n');
}

export function rejectLines(summary: BackfillSummary): string[] {
  const seen = new Set<string>();
  return summary.collections.flatMap((c) =>
    c.rejectSamples
      .filter((r) => {
        const key = `${c.collection}\u0000${r.id}\u0000${r.code}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      })
      .map((r) => `reject: ${c.collection} _id ${r.id ?? '(unknown)'} [${r.stage} ${r.code}] ${r.reason}`),
  );
}
