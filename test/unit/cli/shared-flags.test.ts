import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../src/cli/program.js';
import { SHARED_FLAGS, sharedFlag } from '../../../src/cli/shared-flags.js';

/**
 * A flag several commands take means one thing and says so in the same words everywhere:
 * `ferry migrate --help` must not describe `--dry-run` differently from `ferry backfill --help`.
 */

/**
 * Flags whose name a command uses for something else, declared by that command on purpose.
 * Anything not listed here that spells a shared flag's name must be the shared flag.
 */
const OTHER_MEANINGS: Readonly<Record<string, readonly string[]>> = {
  // overwrite the config file / write destructive schema changes, not "empty and reload"
  '--force': ['infer', 'schema apply', 'cutover'],
  // consent to the destructive steps of a schema change, not to a reload
  '--yes': ['schema apply', 'cutover', 'rollback'],
  // the generator's seed, not the verification sample's
  '--seed': ['demo'],
  // one schema to qualify, check or filter by, not the schemas to load
  '--schema': [
    'plan',
    'verify',
    'export',
    'reconcile',
    'sync',
    'serve',
    'rejects list',
    'rejects retry',
    'schema export',
    'outbox work',
    'outbox redrive',
    'cutover',
    'rollback',
  ],
  // list the drifted ids without repairing, not read-and-transform without writing
  '--dry-run': ['sync'],
  // root rows per TTL delete statement, not documents per load chunk
  '--batch-size': ['ttl run'],
};

interface Declared {
  readonly command: string;
  readonly long: string;
  readonly flags: string;
  readonly description: string;
  readonly defaultValue: unknown;
}

function declaredOptions(root: Command): Declared[] {
  const found: Declared[] = [];
  const walk = (command: Command, name: string) => {
    for (const option of command.options)
      if (option.long !== undefined)
        found.push({
          command: name,
          long: option.long,
          flags: option.flags,
          description: option.description,
          defaultValue: option.defaultValue,
        });
    for (const sub of command.commands) walk(sub, `${name} ${sub.name()}`.trim());
  };
  walk(root, '');
  return found;
}

/** Each declaration of a shared flag's name that is not the shared flag, as `command: --flag`. */
function divergentFlags(root: Command): string[] {
  const shared = new Map(Object.keys(SHARED_FLAGS).map((name) => [longOf(name), name] as const));
  return declaredOptions(root)
    .filter((declared) => {
      const name = shared.get(declared.long);
      if (name === undefined || OTHER_MEANINGS[declared.long]?.includes(declared.command)) return false;
      const expected = SHARED_FLAGS[name as keyof typeof SHARED_FLAGS];
      const expectedDefault = 'defaultValue' in expected ? expected.defaultValue : undefined;
      return (
        declared.flags !== expected.flags ||
        declared.description !== expected.description ||
        declared.defaultValue !== expectedDefault
      );
    })
    .map((d) => `${d.command}: ${d.flags} "${d.description}"`);
}

function longOf(name: string): string {
  return SHARED_FLAGS[name as keyof typeof SHARED_FLAGS].flags.split(' ')[0]!;
}

describe('flags shared by several commands', () => {
  const program = buildProgram();

  it('are declared with the same name, help text and default by every command that takes them', () => {
    expect(divergentFlags(program)).toEqual([]);
  });

  it('are each taken by at least two commands, and migrate takes those of its steps', () => {
    const declared = declaredOptions(program);
    for (const name of Object.keys(SHARED_FLAGS)) {
      const takers = declared.filter((d) => d.long === longOf(name)).map((d) => d.command);
      expect(takers.length, name).toBeGreaterThanOrEqual(2);
    }
    const migrate = new Set(declared.filter((d) => d.command === 'migrate').map((d) => d.long));
    for (const flag of [
      '--dry-run',
      '--report',
      '--show-values',
      '--fraction',
      '--seed',
      '--schema',
      '--force',
    ])
      expect(migrate.has(flag), flag).toBe(true);
  });

  it('catches a command that declares a shared flag by hand with other words or another default', () => {
    const root = new Command('ferry');
    root.command('load').addOption(sharedFlag('dryRun')).option('--parallel <n>', 'workers', '4');
    root.command('check').option('--dry-run', 'pretend').addOption(sharedFlag('parallel'));
    expect(divergentFlags(root)).toEqual(['load: --parallel <n> "workers"', 'check: --dry-run "pretend"']);
  });
});
