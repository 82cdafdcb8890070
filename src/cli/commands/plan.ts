import type { Command } from 'commander';
import {
  type SchemaPlanReport,
  schemaFromConfig,
  schemaPlanReport,
  targetSchemas,
} from '../../schema/schema-plan.js';
import { commandContext } from '../context.js';
import { emit } from '../output.js';

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('print the DDL, load order, translated indexes, TTL rules and warnings for the mapping')
    .option(
      '--schema <name>',
      'target schema to qualify the DDL with (default: the first configured, else public)',
    )
    .action(async (options: { schema?: string }, command: Command) => {
      const { out, config } = await commandContext(command);
      const [schema] = targetSchemas(options.schema, config.schemas);
      const report = schemaPlanReport(schemaFromConfig(config), schema ?? 'public');
      emit(out, report, () => renderPlan(report));
    });
}

/** The plan as a SQL script: the facts as comments, so `ferry plan | psql` runs it as is. */
function renderPlan(report: SchemaPlanReport): string {
  const lines = [
    `-- Ferry plan for schema "${report.schema}"`,
    `-- Load order: ${report.loadOrder.join(', ')}`,
  ];
  if (report.deferredConstraints.length > 0) {
    lines.push('-- Foreign keys that close a cycle (created after the load):');
    for (const fk of report.deferredConstraints)
      lines.push(`--   ${fk.name}: ${fk.table} (${fk.columns.join(', ')}) -> ${fk.refTable}`);
  }
  if (report.indexes.length > 0) {
    lines.push('-- Indexes translated from MongoDB:');
    for (const index of report.indexes)
      lines.push(
        `--   ${index.source} -> ${index.name} (${index.unique ? 'unique ' : ''}${index.method}${index.where ? `, where ${index.where}` : ''})`,
      );
  }
  if (report.ttl.length > 0) {
    // Nothing deletes these rows by itself; saying which command does keeps users from
    // waiting for a cleanup that never comes.
    lines.push('-- TTL cleanup rules (run them with `ferry ttl run`, or keep it running with --watch):');
    for (const rule of report.ttl)
      lines.push(
        `--   delete from ${rule.table} where ${rule.column} < now() - ${rule.seconds} seconds${rule.where ? ` and ${rule.where}` : ''} (from ${rule.source})`,
      );
  }
  if (report.warnings.length > 0) {
    lines.push('-- Warnings:');
    for (const w of report.warnings) lines.push(`--   [${w.code}] ${w.collection}: ${w.message}`);
  }
  lines.push(
    '',
    '-- Before the load',
    '',
    report.sql.beforeLoad,
    '-- After the load',
    '',
    report.sql.afterLoad,
  );
  return lines.join('\n');
}
