import type { Command } from 'commander';
import { describeLocation, ExitCode, exitCodeFor, FerryError } from '../../core/errors.js';
import { renderTable } from '../../core/render-table.js';
import { backfill } from '../../load/backfill.js';
import { isFinal } from '../../load/collection-phase.js';
import { misfitText } from '../../load/misfits.js';
import { type BackfillProgress, type BackfillSummary, DEFAULT_BATCH_SIZE } from '../../load/types.js';
import { mappingFromConfig, targetSchemas } from '../../schema/schema-plan.js';
import { openTarget } from '../../target/open-target.js';
import { confirmReload, countFlag, listFlag } from '../confirm.js';
import { commandContext, timed } from '../context.js';
import { liveSourceHint } from '../live-source-hint.js';
import { emit } from '../output.js';
import { createProgress, type ProgressReporter } from '../progress.js';
import { sharedFlag } from '../shared-flags.js';
import {
  openConfiguredSource,
  type SourceFlags,
  sourceLocation,
  withSourceOptions,
} from '../source-options.js';
import { countInBackground } from '../source-totals.js';

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
  readonly strict?: boolean;
}

/**
 * `ferry backfill`: a thin shell over `backfill()` (src/load). Parses and checks flags, asks
 * before `--force`, shows progress, prints the summary, and maps the outcome to an exit code:
 * 0 loaded completely, 1 any reject (beyond `--max-rejects`) or a failed collection, 2 bad
 * usage, 3 environment.
 */
export function registerBackfill(program: Command): void {
  withSourceOptions(
    program
      .command('backfill')
      .description('load the source into PostgreSQL through the mapping (resumable, exactly once)')
      .argument('[source]', 'mongodb:// URI, mongodump directory or archive, or JSON file(s)'),
  )
    .addOption(sharedFlag('only'))
    .addOption(sharedFlag('schemas'))
    .option('--resume', 'continue from the checkpoints (the default)')
    .addOption(sharedFlag('reload'))
    .addOption(sharedFlag('yes'))
    .addOption(sharedFlag('dryRun'))
    .addOption(sharedFlag('batchSize'))
    .addOption(sharedFlag('parallel'))
    .addOption(sharedFlag('maxRejects'))
    .addOption(sharedFlag('strict'))
    .action(async (positional: string | undefined, flags: BackfillFlags, command: Command) => {
      const given = sourceLocation(positional, flags);
      const { out, log, config } = await commandContext(
        command,
        given === undefined ? {} : { source: given },
      );
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
      const source = await timed(log, 'source opened', () => openConfiguredSource(config, flags));
      const target =
        flags.dryRun === true
          ? undefined
          : await timed(log, 'target opened', () => openTarget(config.target, { max: parallel + 1 }));
      const progress = createProgress({ isTerminal: process.stderr.isTTY === true, enabled: !out.json });
      const stopCounting = countInBackground(source, progress);
      const show = showBackfillProgress(progress);
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
          strict: flags.strict === true,
          dryRun: flags.dryRun === true,
          signal: controller.signal,
          onProgress: (p) => {
            log.trace(
              { collection: p.collection, phase: p.phase, read: p.read, rejected: p.rejected },
              'backfill progress',
            );
            show(p);
          },
        });
      } finally {
        process.off('SIGINT', interrupt);
        stopCounting();
        progress.stop();
        await source.close();
        await target?.close();
      }
      emit(out, summary, () => renderSummary(summary, source.kind === 'mongodb'));
      if (!out.json) for (const line of rejectLines(summary)) out.error(line);
      if (!summary.ok) process.exitCode = backfillExitCode(summary);
    });
}

/**
 * The exit code of a run that is not ok: 2 when a collection failed on input that cannot be
 * read further (a truncated archive, a bad gzip stream: the same code `inspect` gives), 3 when
 * it failed on the environment, else 1 (rejects, a failed after-load step).
 *
 * @example
 * declare const summary: BackfillSummary;
 * if (!summary.ok) process.exitCode = backfillExitCode(summary);
 */
export function backfillExitCode(summary: BackfillSummary): ExitCode {
  const codes = summary.collections.flatMap((c) => (c.error ? [exitCodeFor(c.error.category)] : []));
  if (codes.includes(ExitCode.usage)) return ExitCode.usage;
  if (codes.includes(ExitCode.environment)) return ExitCode.environment;
  return ExitCode.problem;
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
      phase: 'load',
      done: p.read,
      rejected: p.rejected,
      ...(p.total === undefined ? {} : { total: p.total }),
    });
    if (isFinal(p.phase)) progress.finish(p.collection, 'load');
  };
}

/**
 * The summary for people: one row per collection and schema, then what else to know. With
 * `liveSource`, collections that were already loaded say that later changes in MongoDB are
 * not picked up, and what to do (live-source-hint.ts).
 */
export function renderSummary(summary: BackfillSummary, liveSource = false): string {
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
  for (const c of summary.collections)
    if (c.reread)
      lines.push(
        `${c.collection}@${c.schema}: read ${c.reread.resolved + c.reread.stillRejected} document(s) an earlier run could not read from the source again: ${c.reread.resolved} loaded now, ${c.reread.stillRejected} still rejected`,
      );
  const rejects = rejectedLine(summary);
  if (rejects !== undefined) lines.push(rejects);
  const misfitLabel = summary.strict ? 'FAILED (--strict)' : 'WARNING';
  for (const m of summary.misfits) lines.push(`${misfitLabel}: ${misfitText(m)}`);
  if (summary.unmapped.length > 0)
    lines.push(`not in the mapping, not loaded: ${summary.unmapped.join(', ')}`);
  if (summary.rejectsOverLimit)
    lines.push('stopped: more rejects than --max-rejects allows (see `ferry rejects list`)');
  for (const c of summary.collections)
    if (c.error) lines.push(`${c.collection}@${c.schema} failed: ${c.error.message}`);
  for (const p of summary.afterLoad.problems) lines.push(`after-load in ${p.schema} failed: ${p.message}`);
  if (liveSource)
    lines.push(
      ...liveSourceHint([
        ...new Set(summary.collections.filter((c) => c.phase === 'up-to-date').map((c) => c.collection)),
      ]),
    );
  return lines.join('\n');
}

/**
 * Rejected documents are accounted for but missing from the target: said in capitals unless
 * the user tolerated them with `--max-rejects`.
 */
function rejectedLine(summary: BackfillSummary): string | undefined {
  if (summary.rejected === 0) return undefined;
  const what = `${summary.rejected} document(s) rejected: accounted, not loaded`;
  const see = 'see `ferry rejects list`, and `ferry rejects retry` after a fix';
  return summary.rejected <= summary.rejectsTolerated
    ? `${what} (within --max-rejects ${summary.rejectsTolerated}; ${see})`
    : `INCOMPLETE: ${what} (${see})`;
}

/**
 * `file things.json, line 3, offset 164` for a reject whose place in the source is known, else ''.
 *
 * @example
 * sourcePlace({ file: 'a.json', line: 3, offset: 164 })   // 'file a.json, line 3, offset 164'
 */
export function sourcePlace(r: {
  readonly file: string | null;
  readonly line: number | null;
  readonly offset: number | null;
}): string {
  return describeLocation({
    ...(r.file === null ? {} : { file: r.file }),
    ...(r.line === null ? {} : { line: r.line }),
    ...(r.offset === null ? {} : { offset: r.offset }),
  });
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
      .map((r) => {
        const where = sourcePlace(r);
        return `reject: ${c.collection} _id ${r.id ?? '(unknown)'}${where ? ` (${where})` : ''} [${r.stage} ${r.code}] ${r.reason}`;
      }),
  );
}
