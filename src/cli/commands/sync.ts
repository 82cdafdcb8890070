import { EJSON } from 'bson';
import type { Command } from 'commander';
import type { ResolvedConfig } from '../../config/load.js';
import { ExitCode } from '../../core/errors.js';
import { renderTable } from '../../core/render-table.js';
import type { RuntimeStores } from '../../runtime/entity-copy.js';
import type { EntityDrift } from '../../runtime/sync/find-drift.js';
import { type SyncResult, syncStores } from '../../runtime/sync/sync.js';
import { type MongoSource, openMongoSource } from '../../sources/mongodb/mongo-source.js';
import { listFlag } from '../confirm.js';
import { commandContext } from '../context.js';
import type { Output } from '../output.js';
import { createProgress } from '../progress.js';
import { openRuntimeStores } from '../runtime-stores.js';
import { sharedFlag } from '../shared-flags.js';

interface SyncFlags {
  readonly source?: string;
  readonly only?: string;
  readonly schema?: string;
  readonly dryRun?: boolean;
  readonly resume?: boolean;
}

/**
 * `ferry sync [source] [--only a,b] [--schema s] [--dry-run] [--resume]`: find every entity
 * that differs between a live MongoDB (the primary) and PostgreSQL and copy the primary's
 * state of exactly those (src/runtime/sync). `--dry-run` lists them (ids as Extended JSON,
 * never values) and changes nothing. Exit 0 only when the stores end equal for the checked
 * collections, 1 otherwise.
 */
export function registerSync(program: Command): void {
  program
    .command('sync')
    .description('find entities that differ between MongoDB and PostgreSQL, and copy MongoDB’s state of them')
    .argument('[source]', 'the primary: a mongodb:// URI naming the database')
    .option('--source <source>', 'the source (instead of the positional argument)')
    .addOption(sharedFlag('only'))
    .option('--schema <name>', 'target schema (default: the config’s first schema, else public)')
    .option('--dry-run', 'list what would change (ids only), change nothing')
    .option('--resume', 'continue the last unfinished run, skipping work it finished')
    .action(async (positional: string | undefined, flags: SyncFlags, command: Command) => {
      const given = positional ?? flags.source;
      const { out, config } = await commandContext(command, given === undefined ? {} : { source: given });
      const stores = await openStores(config, flags.schema);
      const progress = createProgress({ isTerminal: process.stderr.isTTY === true, enabled: !out.json });
      const listing = flags.dryRun === true ? driftListing(out) : undefined;
      try {
        const result = await syncStores({
          stores: stores.runtime,
          source: stores.source,
          ...(flags.only !== undefined && { only: listFlag(flags.only) ?? [] }),
          dryRun: flags.dryRun === true,
          resume: flags.resume === true,
          ...(listing !== undefined && { onDrift: listing.add }),
          onProgress: ({ collection, phase, documents }) =>
            progress.update({ collection: `${collection} (${phase})`, done: documents }),
        });
        progress.stop();
        if (listing !== undefined) listing.end(result);
        else if (out.json) out.write(JSON.stringify(result, null, 2));
        else out.write(renderSummary(result));
        if (!result.ok) process.exitCode = ExitCode.problem;
      } finally {
        progress.stop();
        await stores.close();
      }
    });
}

/**
 * The live primary and the PostgreSQL target as the runtime holds them (`openRuntimeStores`:
 * a dump, a file or the embedded target is a usage error), plus the primary as a source, which
 * the drift scan reads in `_id` order.
 */
async function openStores(
  config: ResolvedConfig,
  schema: string | undefined,
): Promise<{ runtime: RuntimeStores; source: MongoSource; close(): Promise<void> }> {
  const opened = await openRuntimeStores(config, 'sync', schema);
  let source: MongoSource;
  try {
    source = await openMongoSource(opened.sourceUri);
  } catch (error) {
    await opened.close();
    throw error;
  }
  return {
    runtime: opened.stores,
    source,
    close: async () => {
      await source.close();
      await opened.close();
    },
  };
}

/**
 * A dry run's list, written as it is found so a large drift never sits in memory: text lines
 * for people, or one JSON document whose `changes` array is streamed item by item.
 */
function driftListing(out: Output): {
  add: (collection: string, drift: EntityDrift) => void;
  end: (result: SyncResult) => void;
} {
  let first = true;
  if (out.json) process.stdout.write('{"dryRun":true,"changes":[');
  return {
    add: (collection, drift) => {
      const id = EJSON.stringify(drift.id as never, { relaxed: false });
      const action = drift.kind === 'extra' ? 'delete' : 'copy';
      if (out.json) {
        process.stdout.write(
          `${first ? '\n' : ',\n'}${JSON.stringify({ collection, kind: drift.kind, action, id })}`,
        );
      } else {
        out.write(`would ${action} ${collection} ${id} (${drift.kind})`);
      }
      first = false;
    },
    end: (result) => {
      if (out.json) {
        const { dryRun: _dryRun, ...rest } = result;
        process.stdout.write(`\n],${JSON.stringify(rest, null, 2).slice(1)}\n`);
      } else {
        out.write(renderSummary(result));
      }
    },
  };
}

function renderSummary(result: SyncResult): string {
  const verb = result.dryRun ? 'would be ' : '';
  const table = renderTable(
    ['collection', 'checked', 'missing', 'extra', 'changed', `${verb}repaired`, `${verb}deleted`, 'skipped'],
    result.collections.map((c) => [
      c.collection,
      c.checked,
      c.missing,
      c.extra,
      c.changed,
      result.dryRun ? c.missing + c.changed : c.repaired,
      result.dryRun ? c.extra : c.deleted,
      c.skipped,
    ]),
  );
  const unresolved = result.collections.flatMap((c) =>
    c.unresolved.map((id) => `still different: ${c.collection} ${id}`),
  );
  const verdict = result.ok
    ? result.dryRun
      ? 'no drift: the stores are equal'
      : 'the stores are equal'
    : result.dryRun
      ? 'drift found; `ferry sync` without --dry-run repairs it'
      : 'some entities are still different (see above); run `ferry sync` again, and check `ferry rejects list`';
  return [table, ...unresolved, verdict].join('\n');
}
