import type { Command } from 'commander';
import { describeLocation, ExitCode } from '../../core/errors.js';
import { renderTable } from '../../core/render-table.js';
import { type InspectedCollection, inspectSource } from '../../sources/inspect.js';
import { commandContext } from '../context.js';
import { emit } from '../output.js';
import { createProgress } from '../progress.js';
import {
  openConfiguredSource,
  type SourceFlags,
  sourceLocation,
  withSourceOptions,
} from '../source-options.js';

export function registerInspect(program: Command): void {
  withSourceOptions(
    program
      .command('inspect')
      .description('count documents, sizes and indexes per collection of a source')
      .argument(
        '[source]',
        'mongodb:// URI, mongodump directory or archive, .json/.jsonl export, or JSON file(s)',
      ),
  ).action(async (positional: string | undefined, flags: SourceFlags, command: Command) => {
    const given = sourceLocation(positional, flags);
    const { out, config } = await commandContext(command, given === undefined ? {} : { source: given });
    const source = await openConfiguredSource(config, flags);
    const progress = createProgress({ isTerminal: process.stderr.isTTY === true, enabled: !out.json });
    let collections: InspectedCollection[];
    try {
      collections = await inspectSource(source, {
        onProgress: ({ collection, documents }) =>
          progress.update({ collection, phase: 'inspect', done: documents }),
      });
    } finally {
      progress.stop();
      await source.close();
    }
    emit(out, { source: source.location, kind: source.kind, collections }, () =>
      renderInspection(collections),
    );
    if (!out.json) for (const line of rejectLines(collections)) out.error(line);
    // Damaged documents are a finding, not a crash: the command ran and found a problem.
    if (collections.some((c) => c.rejects > 0)) process.exitCode = ExitCode.problem;
  });
}

function renderInspection(collections: readonly InspectedCollection[]): string {
  const rows = collections.map((c) => [
    c.database ? `${c.database}.${c.name}` : c.name,
    c.count,
    c.avgBytes,
    c.maxBytes,
    c.rejects,
    c.indexes.map((i) => i.name).join(', ') || '-',
  ]);
  return renderTable(['collection', 'documents', 'avg bytes', 'max bytes', 'rejects', 'indexes'], rows);
}

function rejectLines(collections: readonly InspectedCollection[]): string[] {
  return collections.flatMap((c) =>
    c.rejectSamples.map((r) => `reject: ${r.reason} (${describeLocation(r.where)}) [${r.code}]`),
  );
}
