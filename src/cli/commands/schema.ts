import type { Command } from 'commander';
import { ExitCode } from '../../core/errors.js';
import { applyMigrations } from '../../schema/apply-migrations.js';
import { diffSchemas } from '../../schema/diff.js';
import { checkDrift } from '../../schema/drift.js';
import { readMigrationFiles, readSnapshot, writeMigrations } from '../../schema/migration-files.js';
import { schemaFromConfig, targetSchemas } from '../../schema/schema-plan.js';
import { openTarget } from '../../target/open-target.js';
import { confirmDestructive } from '../confirm.js';
import { commandContext } from '../context.js';
import { emit, type Output } from '../output.js';
import { sharedFlag } from '../shared-flags.js';

interface SchemaOptions {
  readonly dir: string;
  readonly schema?: string;
}

export function registerSchema(program: Command): void {
  const schema = program
    .command('schema')
    .description('versioned SQL migrations for the mapping, and drift checks');
  schema
    .command('apply')
    .description(
      'write the mapping changes as a new migration file, then apply unapplied files to each schema',
    )
    .addOption(sharedFlag('migrationsDir'))
    .addOption(sharedFlag('schemas'))
    .option(
      '--before-load',
      'stop before the first after-load file (constraints and indexes), for a backfill',
    )
    .option('--force', 'also write destructive changes (dropped columns, changed types)')
    .addOption(sharedFlag('yes'))
    .action(
      async (
        options: SchemaOptions & { beforeLoad?: boolean; force?: boolean; yes?: boolean },
        command: Command,
      ) => {
        const { out, config } = await commandContext(command);
        const schemas = targetSchemas(options.schema, config.schemas);
        const model = schemaFromConfig(config);
        if (options.force === true) await confirmSchemaChanges(out, options.dir, model, options.yes === true);
        const { written } = await writeMigrations(options.dir, model, { force: options.force === true });
        const files = await readMigrationFiles(options.dir);
        const db = await openTarget(config.target);
        try {
          const applied = await applyMigrations(db, files, schemas, {
            until: options.beforeLoad === true ? 'before-load' : 'all',
          });
          const result = { written: written.map((f) => f.file), applied: Object.fromEntries(applied) };
          emit(out, result, () =>
            [
              written.length === 0
                ? 'no new migration file (the files match the mapping)'
                : `wrote ${result.written.join(', ')}`,
              ...[...applied].map(([name, versions]) =>
                versions.length === 0
                  ? `${name}: up to date`
                  : `${name}: applied ${versions.map(versionLabel).join(', ')}`,
              ),
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
}

/** Destructive schema changes (dropped tables or columns, narrowed types) need confirmation. */
async function confirmSchemaChanges(
  out: Output,
  dir: string,
  model: Parameters<typeof diffSchemas>[1],
  yes: boolean,
): Promise<void> {
  const snapshot = await readSnapshot(dir);
  const destructive = snapshot === undefined ? [] : diffSchemas(snapshot, model).destructive;
  if (destructive.length === 0) return;
  const list = destructive.map((d) => `  - ${d}`).join('\n');
  await confirmDestructive(
    out,
    `--force would write changes that can lose data:\n${list}`,
    'Write them?',
    yes,
  );
}

function versionLabel(version: number): string {
  return String(version).padStart(4, '0');
}
