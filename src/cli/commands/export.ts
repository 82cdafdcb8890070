import type { Command } from 'commander';
import { ExitCode } from '../../core/errors.js';
import { renderTable } from '../../core/render-table.js';
import { type ExportSummary, exportDocuments } from '../../export/export.js';
import { EXPORT_FORMATS, type ExportFormat } from '../../export/export-format.js';
import { mappingFromConfig } from '../../schema/schema-plan.js';
import { openTarget } from '../../target/open-target.js';
import { choiceFlag, countFlag, listFlag } from '../confirm.js';
import { commandContext } from '../context.js';
import { emit } from '../output.js';
import { createProgress } from '../progress.js';
import { sharedFlag } from '../shared-flags.js';

interface ExportFlags {
  readonly to: string;
  readonly format: string;
  readonly gzip?: boolean;
  readonly only?: string;
  readonly schema?: string;
  readonly db?: string;
  readonly resume?: boolean;
  readonly pageSize?: string;
  readonly parallel?: string;
}

/**
 * `ferry export --to <path> [--format archive|dump|ejson|json] [--gzip] [--only a,b]
 * [--schema s] [--db name] [--resume] [--page-size n] [--parallel n]`: the way back. Documents rebuilt from PostgreSQL
 * through the mapping, written where MongoDB's tools and Ferry's own sources read them.
 * Exit 1 when a row does not rebuild (it is listed with its key), 0 only when every row did.
 */
export function registerExport(program: Command): void {
  program
    .command('export')
    .description(
      'rebuild documents from PostgreSQL and write them as an archive, a dump, Extended JSON or JSON',
    )
    .requiredOption('--to <path>', 'the archive file, or the folder for dump, ejson and json')
    .option('--format <format>', EXPORT_FORMATS.join(' | '), 'archive')
    .option('--gzip', 'compress (like mongodump --gzip)')
    .addOption(sharedFlag('only'))
    .option('--schema <name>', 'target schema (default: the config’s first schema, else public)')
    .option('--db <name>', 'archive and dump: the database name in the namespaces', 'ferry')
    .option('--resume', 'continue an interrupted export from its checkpoint')
    .option('--page-size <n>', 'documents per page, each page one checkpoint', '5000')
    .option('--parallel <n>', 'collections exported at once, each on its own connection', '2')
    .action(async (flags: ExportFlags, command: Command) => {
      const { out, config } = await commandContext(command);
      const format = choiceFlag('--format', flags.format, EXPORT_FORMATS, 'EXPORT_BAD_FORMAT');
      const plan = mappingFromConfig(config);
      const to = flags.to;
      const parallel = countFlag('--parallel', flags.parallel) ?? 2;
      // A connection per lane, and one more for the child tables a page fetches at once.
      const db = await openTarget(config.target, { max: parallel + 2 });
      const progress = createProgress({ isTerminal: process.stderr.isTTY === true, enabled: !out.json });
      const controller = new AbortController();
      const interrupt = () => controller.abort();
      process.once('SIGINT', interrupt);
      let summary: ExportSummary;
      try {
        const only = listFlag(flags.only);
        summary = await exportDocuments({
          db,
          plan,
          schema: flags.schema ?? config.schemas?.[0] ?? 'public',
          to,
          format: format satisfies ExportFormat,
          gzip: flags.gzip === true,
          ...(only !== undefined && { only }),
          database: flags.db ?? 'ferry',
          ...(config.json !== undefined && { json: config.json }),
          resume: flags.resume === true,
          pageSize: countFlag('--page-size', flags.pageSize) ?? 5000,
          parallel,
          ...(config.target !== undefined && { targetUrl: config.target }),
          signal: controller.signal,
          onProgress: ({ collection, done, total }) => progress.update({ collection, done, total }),
        });
      } finally {
        process.off('SIGINT', interrupt);
        progress.stop();
        await db.close();
      }
      emit(out, summary, () => renderExport(summary));
      if (!summary.ok) process.exitCode = ExitCode.problem;
    });
}

function renderExport(summary: ExportSummary): string {
  const table = renderTable(
    ['collection', 'rows', 'exported', 'not rebuilt', 'file'],
    summary.collections.map((c) => [c.collection, c.rows, c.exported, c.unrebuildable, c.file]),
  );
  const lines = [table, '', `manifest: ${summary.manifest}`];
  if (summary.ok) {
    lines.push(`export (${summary.format}): complete, every row rebuilt into a document`);
  } else {
    lines.push(
      `export (${summary.format}): INCOMPLETE, ${summary.unrebuildable.length} row(s) did not rebuild:`,
    );
    for (const row of summary.unrebuildable.slice(0, 50))
      lines.push(`  ${row.table} (${row.key}): ${row.reason}`);
    if (summary.unrebuildable.length > 50)
      lines.push(`  … and ${summary.unrebuildable.length - 50} more (--json lists all)`);
  }
  return lines.join('\n');
}
