import type { Command } from 'commander';
import type { ResolvedConfig } from '../config/load.js';
import { FerryError } from '../core/errors.js';
import { type OpenSourceOptions, openSource } from '../sources/open.js';
import type { Source } from '../sources/types.js';

/** What the source flags parse into. */
export interface SourceFlags {
  readonly source?: string;
  readonly pointer?: string;
  readonly idField?: string;
}

/**
 * Add the options every command that reads a source shares, so they are spelled the same
 * everywhere: `--source`, and for plain JSON files `--pointer` and `--id-field`.
 *
 * @example
 * import { Command } from 'commander';
 * const program = new Command();
 * withSourceOptions(program.command('inspect').argument('[source]'));
 */
export function withSourceOptions(command: Command): Command {
  return command
    .option('--source <source>', 'the source (instead of the positional argument)')
    .option('--pointer <json-pointer>', 'plain JSON: where the records are in each file, e.g. /data/users')
    .option(
      '--id-field <field>',
      'plain JSON: the field holding each record id (default _id, else the map key)',
    );
}

/** The source location from the positional argument, `--source`, or the config. */
export function sourceLocation(positional: string | undefined, flags: SourceFlags): string | undefined {
  return positional ?? flags.source;
}

/**
 * Open the configured source; flags win over the config file's `json` settings.
 *
 * @example
 * declare const config: ResolvedConfig;
 * declare const flags: SourceFlags;
 * const source = await openConfiguredSource(config, flags);
 */
export async function openConfiguredSource(config: ResolvedConfig, flags: SourceFlags): Promise<Source> {
  if (!config.source) {
    throw new FerryError('no source given', {
      code: 'SOURCE_MISSING',
      category: 'usage',
      hint: 'pass a source (a mongodb:// URI, a dump directory or archive, or JSON files), or set `source` in ferry.config.ts',
    });
  }
  const pointer = flags.pointer ?? config.json?.pointer;
  const idField = flags.idField ?? config.json?.idField;
  const options: OpenSourceOptions =
    pointer === undefined && idField === undefined
      ? {}
      : { json: { ...(pointer !== undefined && { pointer }), ...(idField !== undefined && { idField }) } };
  return openSource(config.source, options);
}
