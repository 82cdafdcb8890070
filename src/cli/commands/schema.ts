import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { ResolvedConfig } from '../../config/load.js';
import { ExitCode, FerryError } from '../../core/errors.js';
import { backfill } from '../../load/backfill.js';
import type { Plan } from '../../mapping/model.js';
import { buildSchema } from '../../schema/build-schema.js';
import { checkDrift } from '../../schema/drift.js';
import { type EvolutionPlan, evolveSchema } from '../../schema/evolve-schema.js';
import { exportDrizzle, exportPrisma } from '../../schema/export/index.js';
import { readMigrationFiles, readSnapshot } from '../../schema/migration-files.js';
import { mappingFromConfig, schemaFromConfig, targetSchemas } from '../../schema/schema-plan.js';
import { openTarget } from '../../target/open-target.js';
import type { TargetDatabase } from '../../target/target-database.js';
import { confirmDestructive } from '../confirm.js';
import { commandContext } from '../context.js';
import { emit, type Output } from '../output.js';
import { createProgress } from '../progress.js';
import { sharedFlag } from '../shared-flags.js';
import { openConfiguredSource, type SourceFlags, withSourceOptions } from '../source-options.js';
import { renderSummary, showBackfillProgress } from './backfill.js';

interface SchemaOptions {
  readonly dir: string;
  readonly schema?: string;
}

export function registerSchema(program: Command): void {
  const schema = program
    .command('schema')
    .description('versioned SQL migrations for the mapping, and drift checks');
  withSourceOptions(
    schema
      .command('apply')
      .description(
        'plan the mapping changes (renames, widenings, new columns, reloads), show them, apply them, then write them as a migration file',
      ),
  )
    .addOption(sharedFlag('migrationsDir'))
    .addOption(sharedFlag('schemas'))
    .option(
      '--before-load',
      'stop before the first after-load file (constraints and indexes), for a backfill',
    )
    .option('--force', 'accepted for older scripts; destructive steps need --yes (or a terminal prompt)')
    .option('--yes', 'run destructive steps (dropped columns, re-created tables) without a prompt')
    .action(
      async (
        options: SchemaOptions & SourceFlags & { beforeLoad?: boolean; force?: boolean; yes?: boolean },
        command: Command,
      ) => {
        const { out, config } = await commandContext(
          command,
          options.source ? { source: options.source } : {},
        );
        const schemas = targetSchemas(options.schema, config.schemas);
        const plan = mappingFromConfig(config);
        const model = buildSchema(plan);
        // A damaged snapshot is an input error whatever the target's state: say so before
        // connecting (evolveSchema reads it again, once the target is open).
        await readSnapshot(options.dir);
        const db = await openTarget(config.target);
        try {
          const result = await evolveSchema({
            db,
            dir: options.dir,
            model,
            schemas,
            until: options.beforeLoad === true ? 'before-load' : 'all',
            confirm: (evolution) => confirmSteps(out, evolution, options.yes === true),
            ...(config.source === undefined
              ? {}
              : { reload: (only) => reloadCollections(out, config, options, db, plan, schemas, only) }),
          });
          const written = result.written.map((f) => f.file);
          const applied = Object.fromEntries(result.applied);
          const json = {
            written,
            applied,
            ...(result.reloaded.length > 0 ? { reloaded: result.reloaded } : {}),
          };
          emit(out, json, () =>
            [
              written.length === 0
                ? 'no new migration file (the files match the mapping)'
                : `wrote ${written.join(', ')}`,
              ...[...result.applied].map(([name, versions]) =>
                versions.length === 0
                  ? `${name}: up to date`
                  : `${name}: applied ${versions.map(versionLabel).join(', ')}`,
              ),
              ...(result.reloaded.length > 0
                ? [`reloaded from the source: ${result.reloaded.join(', ')}`]
                : []),
            ].join('\n'),
          );
        } finally {
          await db.close();
        }
      },
    );
  schema
    .command('check')
    .description('exit 1 if the files, ferry.migrations, the database and the mapping disagree (for CI)')
    .addOption(sharedFlag('migrationsDir'))
    .addOption(sharedFlag('schemas'))
    .action(async (options: SchemaOptions, command: Command) => {
      const { out, config } = await commandContext(command);
      const schemas = targetSchemas(options.schema, config.schemas);
      const model = schemaFromConfig(config);
      const files = await readMigrationFiles(options.dir);
      const snapshot = await readSnapshot(options.dir);
      const db = await openTarget(config.target);
      try {
        const drift = await checkDrift(db, { model, files, snapshot, schemas });
        emit(out, { clean: drift.length === 0, drift }, () =>
          drift.length === 0
            ? `no drift in ${schemas.join(', ')}`
            : [`${drift.length} difference(s):`, ...drift.map((d) => `  [${d.kind}] ${d.message}`)].join(
                '\n',
              ),
        );
        if (drift.length > 0) process.exitCode = ExitCode.problem;
      } finally {
        await db.close();
      }
    });
  schema
    .command('export')
    .description("write the mapping's tables as ORM code: a Drizzle pg-core module and/or a Prisma schema")
    .option('--drizzle <file>', 'write a Drizzle schema (TypeScript) to this file')
    .option('--prisma <file>', 'write a Prisma schema to this file')
    .option(
      '--schema <name>',
      'the PostgreSQL schema the tables live in (default: config schemas, else public)',
    )
    .action(async (options: { drizzle?: string; prisma?: string; schema?: string }, command: Command) => {
      const { out, config } = await commandContext(command);
      const targets = [
        ...(options.drizzle === undefined
          ? []
          : [{ format: 'drizzle', file: options.drizzle, write: exportDrizzle }]),
        ...(options.prisma === undefined
          ? []
          : [{ format: 'prisma', file: options.prisma, write: exportPrisma }]),
      ];
      if (targets.length === 0)
        throw new FerryError('nothing to export: no --drizzle or --prisma file given', {
          code: 'SCHEMA_EXPORT_NO_FORMAT',
          category: 'usage',
          hint: 'ferry schema export --drizzle src/db/schema.ts --prisma prisma/schema.prisma',
        });
      const schemas = targetSchemas(options.schema, config.schemas);
      if (schemas.length !== 1)
        throw new FerryError(
          `the config names ${schemas.length} schemas (${schemas.join(', ')}); an export describes one`,
          {
            code: 'SCHEMA_EXPORT_ONE_SCHEMA',
            category: 'usage',
            hint: `pass --schema ${schemas[0] ?? 'public'}`,
          },
        );
      const model = schemaFromConfig(config);
      const written: { format: string; file: string }[] = [];
      for (const target of targets) {
        await writeExport(target.file, target.write(model, { schema: schemas[0] as string }));
        written.push({ format: target.format, file: target.file });
      }
      emit(out, { schema: schemas[0], tables: model.tables.length, written }, () =>
        written
          .map(
            (w) =>
              `wrote the ${w.format} schema of ${model.tables.length} table(s) in ${schemas[0]} to ${w.file}`,
          )
          .join('\n'),
      );
    });
}

async function writeExport(file: string, text: string): Promise<void> {
  try {
    await writeFile(file, text, 'utf8');
  } catch (error) {
    throw new FerryError(`cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
      code: 'SCHEMA_EXPORT_WRITE_FAILED',
      category: 'usage',
      hint: 'check that the folder exists and is writable',
      cause: error,
    });
  }
}

/**
 * Show every step before it runs (on stderr, so `--json` output stays one document), and
 * ask for the destructive ones (DESIGN.md invariant 6: a prompt on a terminal, `--yes` elsewhere).
 */
async function confirmSteps(out: Output, evolution: EvolutionPlan, yes: boolean): Promise<void> {
  showSteps(out, evolution, 'ferry schema apply');
  if (evolution.destructive.length === 0) return;
  const list = evolution.destructive.map((d) => `  - ${d}`).join('\n');
  await confirmDestructive(out, `these steps can lose data:\n${list}`, 'Run them?', yes);
}

/**
 * The steps of a schema change, numbered, on stderr (nothing with `--json`).
 *
 * @example
 * declare const out: Output;
 * declare const evolution: EvolutionPlan;
 * showSteps(out, evolution, 'ferry migrate');
 */
export function showSteps(out: Output, evolution: EvolutionPlan, command: string): void {
  if (out.json || evolution.steps.length === 0) return;
  const lines = evolution.steps.map((step, i) =>
    step.kind === 'reload'
      ? `  ${i + 1}. reload collection ${step.collection} from the source (${step.reason})`
      : `  ${i + 1}. ${step.text}${step.destructive ? '  [destructive]' : ''}`,
  );
  out.error(`${command}: ${evolution.steps.length} schema step(s):\n${lines.join('\n')}`);
}

/** Load the collections a schema change needs again, alone, from the configured source. */
async function reloadCollections(
  out: Output,
  config: ResolvedConfig,
  flags: SourceFlags,
  db: TargetDatabase,
  plan: Plan,
  schemas: readonly string[],
  only: readonly string[],
): Promise<void> {
  const source = await openConfiguredSource(config, flags);
  const progress = createProgress({ isTerminal: process.stderr.isTTY === true, enabled: !out.json });
  try {
    const summary = await backfill({
      source,
      target: db,
      plan,
      schemas,
      only,
      reload: only,
      command: 'schema apply',
      onProgress: showBackfillProgress(progress),
    });
    progress.stop();
    if (!out.json) out.error(renderSummary(summary));
    if (!summary.ok)
      throw new FerryError(`the reload of ${only.join(', ')} did not complete`, {
        code: 'SCHEMA_RELOAD_INCOMPLETE',
        category: 'problem',
        hint: 'the schema change is applied; fix what the summary names, then run `ferry backfill`',
      });
  } finally {
    progress.stop();
    await source.close();
  }
}

function versionLabel(version: number): string {
  return String(version).padStart(4, '0');
}
