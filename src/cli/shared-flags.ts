import { Option } from 'commander';
import { DEFAULT_BATCH_SIZE } from '../load/types.js';

/**
 * The flags that several commands take with one meaning (`ferry migrate` takes those of
 * each of its steps). Declared once here, so a flag cannot say one thing in `ferry backfill
 * --help` and another in `ferry migrate --help`. A flag that means something else in some
 * command (`infer --force` overwrites the config) is declared by that command itself.
 */
interface FlagDefinition {
  /** Commander's flag syntax: the long name and, for a flag with a value, its placeholder. */
  readonly flags: string;
  readonly description: string;
  readonly defaultValue?: string;
}

export const SHARED_FLAGS = {
  schemas: {
    flags: '--schema <names>',
    description: 'target schema(s), comma-separated (default: config schemas, else public)',
  },
  only: {
    flags: '--only <collections>',
    description: 'only these collections of the mapping, comma-separated (default: all)',
  },
  migrationsDir: {
    flags: '--dir <dir>',
    description: 'migrations folder in your app',
    defaultValue: 'migrations',
  },
  sample: {
    flags: '--sample <n>',
    description: 'infer the mapping from a uniform sample of N documents per collection (default: all)',
  },
  batchSize: {
    flags: '--batch-size <n>',
    description: `documents per chunk, one transaction per chunk and schema (default ${DEFAULT_BATCH_SIZE})`,
  },
  parallel: {
    flags: '--parallel <n>',
    description: 'collections loaded at once, each on its own connection',
    defaultValue: '1',
  },
  maxRejects: {
    flags: '--max-rejects <n>',
    description:
      'rejected documents tolerated before exit 1 (default 0: any reject exits 1); more stop the run',
  },
  acceptRejects: {
    flags: '--accept-rejects',
    description: 'exit 0 when the only missing documents are rejected ones (verdict stays "incomplete")',
  },
  strict: {
    flags: '--strict',
    description: 'fail (exit 1) when a typed column cannot hold values that then go to _extra',
  },
  reload: {
    flags: '--force',
    description: 'empty the tables, checkpoints and rejects of the collections and load again',
  },
  yes: { flags: '--yes', description: 'confirm --force without a prompt' },
  dryRun: {
    flags: '--dry-run',
    description: 'read and transform everything, report counts and rejects, write nothing',
  },
  fraction: {
    flags: '--fraction <f>',
    description: 'sample level: share of documents to compare, in (0, 1]',
    defaultValue: '0.1',
  },
  seed: {
    flags: '--seed <n>',
    description: 'sample level: which sample (default random; printed, to repeat it)',
  },
  showValues: {
    flags: '--show-values',
    description: 'print both values of each differing field (default: paths only)',
  },
  report: { flags: '--report <file>', description: 'also write the verification as an HTML report' },
  maxDifferences: {
    flags: '--max-differences <n>',
    description: 'differences listed per collection',
    defaultValue: '1000',
  },
} as const satisfies Readonly<Record<string, FlagDefinition>>;

export type SharedFlag = keyof typeof SHARED_FLAGS;

/**
 * A shared flag as an option to add to a command.
 *
 * @example
 * import { Command } from 'commander';
 * const program = new Command('ferry');
 * program.command('backfill').addOption(sharedFlag('only')).addOption(sharedFlag('dryRun'));
 */
export function sharedFlag(name: SharedFlag): Option {
  const flag: FlagDefinition = SHARED_FLAGS[name];
  const option = new Option(flag.flags, flag.description);
  return flag.defaultValue === undefined ? option : option.default(flag.defaultValue);
}
