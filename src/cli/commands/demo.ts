import type { Command } from 'commander';
import { ExitCode } from '../../core/errors.js';
import { marketplaceCounts } from '../../generate/marketplace/generate-marketplace.js';
import { DEMO_SCALE, DEMO_SEED, type DemoResult, runDemo } from '../../migrate/demo.js';
import { openTarget } from '../../target/open-target.js';
import { countFlag } from '../confirm.js';
import { commandContext } from '../context.js';
import { emit } from '../output.js';
import { createProgress } from '../progress.js';
import { migrateProgress, renderMigrate } from './migrate.js';

/**
 * `ferry demo`: generate the seeded escrow-marketplace archive and migrate it, by default
 * into embedded PostgreSQL (PGlite) under ./.ferry, so it needs no server at all.
 */
/**
 * The commands to run after the demo, spelled out: its config is not in the working folder,
 * so `ferry verify` alone would not find it. The target is never printed (it may hold a
 * password); a non-embedded one is named by where it came from.
 */
function nextCommands(configFile: string, embedded: boolean): string[] {
  const target = embedded ? '' : ' --target <the same target>';
  return [
    `ferry verify --config ${configFile}${target}`,
    `ferry status --config ${configFile}${target}`,
    `ferry plan --config ${configFile}`,
    `ferry rejects list --config ${configFile}${target}`,
  ];
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'generate a realistic marketplace dataset as a mongodump archive and migrate it (no server needed)',
    )
    .option('--scale <n>', `documents across all collections (default ${DEMO_SCALE})`)
    .option('--seed <n>', `generator seed (default ${DEMO_SEED})`)
    .action(async (flags: { scale?: string; seed?: string }, command: Command) => {
      const { out, config } = await commandContext(command);
      const scale = countFlag('--scale', flags.scale);
      const seed = countFlag('--seed', flags.seed, 0);
      const target = await openTarget(config.target);
      const progress = createProgress({ isTerminal: process.stderr.isTTY === true, enabled: !out.json });
      // The generator's counts are exact, so the load and verify bars have real totals even
      // when the archive is reused from an earlier run.
      for (const [name, total] of Object.entries(marketplaceCounts(scale ?? DEMO_SCALE)))
        progress.setTotal(name, total);
      let result: DemoResult;
      try {
        result = await runDemo({
          target,
          ...(scale === undefined ? {} : { scale }),
          ...(seed === undefined ? {} : { seed }),
          onGenerate: (file) => {
            if (!out.json) progress.log(`ferry demo: generating ${file}…`);
          },
          onGenerateProgress: ({ collection, written, total }) => {
            // What is generated is then loaded and verified: its count is their total too.
            progress.setTotal(collection, total);
            progress.update({ collection, phase: 'generate', done: written, total });
            if (written === total) progress.finish(collection, 'generate');
          },
          migrate: migrateProgress(out, progress, 'ferry demo'),
        });
      } finally {
        progress.stop();
        await target.close();
      }
      const next = nextCommands(result.configFile, config.target === undefined || config.target === '');
      emit(out, { ...result, next }, () =>
        [
          `source: ${result.archive}`,
          renderMigrate(result, target.location),
          '',
          `next: the demo's mapping is ${result.configFile}, which other commands read only when told:`,
          ...next.map((line) => `  ${line}`),
        ].join('\n'),
      );
      if (!result.ok) process.exitCode = ExitCode.problem;
    });
}
