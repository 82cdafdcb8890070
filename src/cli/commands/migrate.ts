import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE } from '../../config/load.js';
import { ExitCode } from '../../core/errors.js';
import { DEFAULT_BATCH_SIZE } from '../../load/types.js';
import { type MigrateResult, migrate } from '../../migrate/migrate.js';
import { targetSchemas } from '../../schema/schema-plan.js';
import { openTarget } from '../../target/open-target.js';
import { renderVerifyText } from '../../verify/report-text.js';
import { choiceFlag, confirmReload, countFlag, listFlag } from '../confirm.js';
import { commandContext, timed } from '../context.js';
import { emit } from '../output.js';
import { createProgress } from '../progress.js';
import {
  openConfiguredSource,
  type SourceFlags,
  sourceLocation,
  withSourceOptions,
} from '../source-options.js';
import { backfillExitCode, rejectLines, renderSummary, showBackfillProgress } from './backfill.js';

interface MigrateFlags extends SourceFlags {
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
  readonly verify: string;
  readonly acceptRejects?: boolean;
}

/**
 * `ferry migrate <source>`: the one-shot (infer when there is no mapping, apply the schema,
 * backfill, finish the schema). It takes the options of those steps; see `migrate()`.
 */
export function registerMigrate(program: Command): void {
  withSourceOptions(
    program
      .command('migrate')
      .description(
        'one shot: infer a mapping if none exists, apply the schema, backfill, and check the counts',
      )
      .argument('[source]', 'mongodb:// URI, mongodump directory or archive, or JSON file(s)'),
  )
    .option('--schema <names>', 'target schema(s), comma-separated (default: config schemas, else public)')
    .option('--only <collections>', 'migrate only these collections, comma-separated')
    .option('--dir <dir>', 'migrations folder in your app', 'migrations')
    .option('--sample <n>', 'infer the mapping from N documents per collection instead of all')
    .option(
      '--batch-size <n>',
      `documents per chunk, one transaction per chunk and schema (default ${DEFAULT_BATCH_SIZE})`,
    )
    .option('--parallel <n>', 'collections loaded at once', '1')
    .option(
      '--max-rejects <n>',
      'rejected documents tolerated before exit 1 (default 0: any reject exits 1); more stop the load',
    )
    .option('--accept-rejects', 'let the verification pass when the only missing documents are rejected')
    .option('--strict', 'fail (exit 1) when a typed column cannot hold values that then go to _extra')
    .option('--force', 'empty the mapped tables, checkpoints and rejects and load again')
    .option('--yes', 'confirm --force without a prompt')
    .option('--verify <level>', 'prove the result: deep (every document), count, sample, or none', 'deep')
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
      if (flags.force === true) await confirmReload(out, schemas, flags.yes === true);
      const source = await timed(log, 'source opened', () => openConfiguredSource(config, flags));
      const target = await timed(log, 'target opened', () =>
        openTarget(config.target, { max: parallel + 1 }),
      );
      const progress = createProgress({ isTerminal: process.stderr.isTTY === true, enabled: !out.json });
      let result: MigrateResult;
      try {
        result = await migrate({
          source,
          sourceLocation: config.source!,
          target,
          ...(config.mapping ? { mapping: config.mapping } : {}),
          configFile: config.configFile ?? DEFAULT_CONFIG_FILE,
          migrationsDir: flags.dir,
          schemas,
          verify: verifyLevel,
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
          onStep: (step) => {
            if (!out.json && step !== 'backfill') out.error(`ferry migrate: ${stepLabel[step]}…`);
          },
          onInferProgress: (p) => progress.update({ collection: p.collection, done: p.read }),
          onBackfillProgress: showBackfillProgress(progress),
        });
      } finally {
        progress.stop();
        await source.close();
        await target.close();
      }
      emit(out, result, () => renderMigrate(result, target.location, source.kind === 'mongodb'));
      if (!out.json) for (const line of rejectLines(result.backfill)) out.error(line);
      if (!result.ok)
        process.exitCode = result.backfill.ok ? ExitCode.problem : backfillExitCode(result.backfill);
    });
}

const stepLabel = {
  infer: 'no mapping in the config: inferring one from the data',
  schema: 'writing and applying the schema migrations',
  backfill: 'loading',
  finish: 'adding foreign keys and indexes',
  verify: 'verifying every document against the source',
} as const;

/** What a person needs after a migrate: where the mapping and schema are, and the load summary. */
export function renderMigrate(result: MigrateResult, targetLocation: string, liveSource = false): string {
  const lines: string[] = [];
  if (result.inferred?.configFile) {
    lines.push(
      `mapping: inferred and written to ${result.inferred.configFile}; review it, then rerun to reload`,
    );
  } else if (result.inferred) {
    lines.push('mapping: inferred (an existing config file was left as it was)');
  }
  lines.push(
    result.schema.written.length === 0
      ? 'schema: migration files unchanged'
      : `schema: wrote ${result.schema.written.join(', ')}`,
  );
  lines.push(`target: ${targetLocation}`, '', renderSummary(result.backfill, liveSource));
  for (const verified of result.verify) lines.push('', renderVerifyText(verified));
  return lines.join('\n');
}

const VERIFY_LEVELS = ['deep', 'count', 'sample', 'none'] as const;
