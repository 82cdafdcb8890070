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
      emit(out, result, () =>
        [`source: ${result.archive}`, renderMigrate(result, target.location)].join('\n'),
      );
      if (!result.ok) process.exitCode = ExitCode.problem;
    });
}
