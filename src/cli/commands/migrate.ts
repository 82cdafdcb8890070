import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE } from '../../config/load.js';
import { ExitCode, FerryError } from '../../core/errors.js';
import { type MigrateOptions, type MigrateResult, migrate } from '../../migrate/migrate.js';
import { targetSchemas } from '../../schema/schema-plan.js';
import { openTarget } from '../../target/open-target.js';
import { renderVerifyText } from '../../verify/report-text.js';
import { choiceFlag, confirmReload, countFlag, listFlag } from '../confirm.js';
import { commandContext, timed } from '../context.js';
import { emit, type Output } from '../output.js';
import { createProgress, outputAbove, type ProgressReporter } from '../progress.js';
import { sharedFlag } from '../shared-flags.js';
import {
  openConfiguredSource,
  type SourceFlags,
  sourceLocation,
  withSourceOptions,
} from '../source-options.js';
import { countInBackground } from '../source-totals.js';
import { type VerifyFlags, verifyTuning, writeVerifyReports } from '../verify-flags.js';
import { backfillExitCode, rejectLines, renderSummary, showBackfillProgress } from './backfill.js';
import { showSteps } from './schema.js';
import { showVerifyProgress } from './verify.js';

interface MigrateFlags extends SourceFlags, VerifyFlags {
  readonly schema?: string;
  readonly only?: string;
  readonly dir: string;
  readonly sample?: string;
  readonly batchSize?: string;
  readonly parallel?: string;
  readonly maxRejects?: string;
  readonly strict?: boolean;
  readonly force?: boolean;
  readonly yes?: boolean;
  readonly dryRun?: boolean;
  readonly verify: string;
  readonly acceptRejects?: boolean;
}

/**
 * `ferry migrate <source>`: the one-shot (infer when there is no mapping, apply the schema,
 * backfill, finish the schema, verify). It takes the options of those steps, declared in
 * shared-flags.ts so each says the same as in the step's own command; see `migrate()`.
 */
export function registerMigrate(program: Command): void {
  withSourceOptions(
    program
      .command('migrate')
      .description(
        'one shot: infer a mapping if none exists, apply the schema, backfill, and verify every document',
      )
      .argument('[source]', 'mongodb:// URI, mongodump directory or archive, or JSON file(s)'),
  )
    .addOption(sharedFlag('schemas'))
    .addOption(sharedFlag('only'))
    .addOption(sharedFlag('migrationsDir'))
    .addOption(sharedFlag('sample'))
    .addOption(sharedFlag('batchSize'))
    .addOption(sharedFlag('parallel'))
    .addOption(sharedFlag('maxRejects'))
    .addOption(sharedFlag('acceptRejects'))
    .addOption(sharedFlag('strict'))
    .addOption(sharedFlag('reload'))
    .addOption(sharedFlag('yes'))
    .addOption(sharedFlag('dryRun'))
    .option('--verify <level>', 'prove the result: deep (every document), count, sample, or none', 'deep')
    .addOption(sharedFlag('fraction'))
    .addOption(sharedFlag('seed'))
    .addOption(sharedFlag('showValues'))
    .addOption(sharedFlag('report'))
    .addOption(sharedFlag('maxDifferences'))
    .action(async (positional: string | undefined, flags: MigrateFlags, command: Command) => {
      const given = sourceLocation(positional, flags);
      const { out, log, config } = await commandContext(
        command,
        given === undefined ? {} : { source: given },
      );
      const schemas = targetSchemas(flags.schema, config.schemas);
      const parallel = countFlag('--parallel', flags.parallel) ?? 1;
      const batchSize = countFlag('--batch-size', flags.batchSize) ?? config.batchSize;
      const maxRejects = countFlag('--max-rejects', flags.maxRejects, 0);
      const sample = countFlag('--sample', flags.sample);
      const verifyLevel = choiceFlag('--verify', flags.verify, VERIFY_LEVELS);
      const only = listFlag(flags.only);
      // The target's URL lets verify read the target on a thread of its own.
      const verifyOptions = {
        ...verifyTuning(flags),
        ...(config.target !== undefined && { targetUrl: config.target }),
      };
      refuseContradictions(flags, verifyLevel);
      if (flags.force === true) await confirmReload(out, schemas, flags.yes === true);
      const source = await timed(log, 'source opened', () => openConfiguredSource(config, flags));
      // A dry run writes nothing, and opening the embedded database would create it.
      const target =
        flags.dryRun === true
          ? undefined
          : await timed(log, 'target opened', () => openTarget(config.target, { max: parallel + 1 }));
      const progress = createProgress({ isTerminal: process.stderr.isTTY === true, enabled: !out.json });
      const stopCounting = countInBackground(source, progress);
      let result: MigrateResult;
      try {
        result = await migrate({
          source,
          sourceLocation: config.source!,
          ...(target ? { target } : {}),
          dryRun: flags.dryRun === true,
          ...(config.mapping ? { mapping: config.mapping } : {}),
          configFile: config.configFile ?? DEFAULT_CONFIG_FILE,
          migrationsDir: flags.dir,
          schemas,
          verify: verifyLevel,
          verifyOptions,
          acceptRejects: flags.acceptRejects === true,
          ...(config.verify?.checks ? { checks: config.verify.checks } : {}),
          ...(sample === undefined ? {} : { sample }),
          backfill: {
            parallel,
            force: flags.force === true,
            strict: flags.strict === true,
            ...(batchSize === undefined ? {} : { batchSize }),
            ...(maxRejects === undefined ? {} : { maxRejects }),
            ...(only ? { only } : {}),
          },
          ...migrateProgress(out, progress, 'ferry migrate'),
        });
      } finally {
        stopCounting();
        progress.stop();
        await source.close();
        await target?.close();
      }
      const reports = flags.report === undefined ? [] : await writeVerifyReports(flags.report, result.verify);
      emit(out, result, () => renderMigrate(result, target?.location, reports, source.kind === 'mongodb'));
      if (!out.json) for (const line of rejectLines(result.backfill)) out.error(line);
      if (!result.ok)
        process.exitCode = result.backfill.ok ? ExitCode.problem : backfillExitCode(result.backfill);
    });
}

/**
 * The progress hooks of a migrate (its own command and the demo's): messages above the
 * bars, one bar per collection and phase, each step's bars finished when the next begins.
 *
 * @example
 * declare const options: MigrateOptions;
 * declare const out: Output;
 * declare const progress: ProgressReporter;
 * await migrate({ ...options, ...migrateProgress(out, progress, 'ferry migrate') });
 */
export function migrateProgress(
  out: Output,
  progress: ProgressReporter,
  command: string,
): Pick<
  MigrateOptions,
  'onStep' | 'onSchemaPlan' | 'onInferProgress' | 'onBackfillProgress' | 'onVerifyProgress'
> {
  const above = outputAbove(out, progress);
  return {
    onStep: (step) => {
      progress.finishPhase('infer');
      if (!out.json && step !== 'backfill') above.error(`${command}: ${stepLabel[step]}…`);
    },
    onSchemaPlan: (evolution) => showSteps(above, evolution, command),
    onInferProgress: (p) => progress.update({ collection: p.collection, phase: 'infer', done: p.read }),
    onBackfillProgress: showBackfillProgress(progress),
    onVerifyProgress: showVerifyProgress(progress),
  };
}

const stepLabel = {
  infer: 'no mapping in the config: inferring one from the data',
  schema: 'writing and applying the schema migrations',
  backfill: 'loading',
  finish: 'adding foreign keys and indexes',
  verify: 'verifying every document against the source',
} as const;

/**
 * What a person needs after a migrate: where the mapping and schema are, the load summary,
 * the verification and where its report went.
 */
export function renderMigrate(
  result: MigrateResult,
  targetLocation: string | undefined,
  reports: readonly string[] = [],
  liveSource = false,
): string {
  const lines: string[] = [];
  if (result.dryRun) {
    lines.push(
      `dry run: ${result.inferred ? 'the mapping was inferred but not written; ' : ''}no schema, row or report was written`,
    );
  } else if (result.inferred?.configFile) {
    lines.push(
      `mapping: inferred and written to ${result.inferred.configFile}; review it, then rerun to reload`,
    );
  } else if (result.inferred) {
    lines.push('mapping: inferred (an existing config file was left as it was)');
  }
  if (result.inferred && result.inferred.sampled.length > 0)
    lines.push(
      `mapping: inferred from the first documents of ${result.inferred.sampled.join(', ')}; every loaded document was then checked against it and fitted`,
    );
  if (result.widened) {
    const where = result.widened.beyondSample
      .map((b) => `${b.table} (${b.fields.map((f) => `${f.key}: ${f.rows} row(s)`).join(', ')})`)
      .join('; ');
    lines.push(
      `mapping: the load held values the sampled mapping did not type, in ${where}; inferred again from every document${result.widened.reloaded.length > 0 ? ` and reloaded ${result.widened.reloaded.join(', ')}` : ', which mapped them the same way'}`,
    );
  }
  if (!result.dryRun)
    lines.push(
      result.schema.written.length === 0
        ? 'schema: migration files unchanged'
        : `schema: wrote ${result.schema.written.join(', ')}`,
    );
  if (targetLocation !== undefined) lines.push(`target: ${targetLocation}`);
  lines.push('', renderSummary(result.backfill, liveSource));
  for (const verified of result.verify) lines.push('', renderVerifyText(verified));
  if (reports.length > 0) lines.push('', `report: ${reports.join(', ')}`);
  return lines.join('\n');
}

const VERIFY_LEVELS = ['deep', 'count', 'sample', 'none'] as const;

/** Flags that cannot all hold: refused before anything is read or written. */
function refuseContradictions(flags: MigrateFlags, verifyLevel: (typeof VERIFY_LEVELS)[number]): void {
  const conflict = (message: string, hint: string) =>
    new FerryError(message, { code: 'USAGE_CONFLICT', category: 'usage', hint });
  if (flags.dryRun === true && flags.force === true)
    throw conflict('--force and --dry-run contradict each other', 'a dry run empties and writes nothing');
  if (flags.report !== undefined && flags.dryRun === true)
    throw conflict(
      '--report and --dry-run contradict each other',
      'a dry run loads nothing, so verifies nothing',
    );
  if (flags.report !== undefined && verifyLevel === 'none')
    throw conflict(
      '--report needs a verification, and --verify none skips it',
      'pass --verify deep, count or sample',
    );
}
