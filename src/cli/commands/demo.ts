import type { Command } from 'commander';
import { ExitCode } from '../../core/errors.js';
import { DEMO_SCALE, DEMO_SEED, type DemoResult, runDemo } from '../../migrate/demo.js';
import { openTarget } from '../../target/open-target.js';
import { countFlag } from '../confirm.js';
import { commandContext } from '../context.js';
import { emit } from '../output.js';
import { createProgress } from '../progress.js';
import { showBackfillProgress } from './backfill.js';
import { renderMigrate } from './migrate.js';

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
      let result: DemoResult;
      try {
        result = await runDemo({
          target,
          ...(scale === undefined ? {} : { scale }),
          ...(seed === undefined ? {} : { seed }),
          onGenerate: (file) => {
            if (!out.json) out.error(`ferry demo: generating ${file}…`);
          },
          migrate: { onBackfillProgress: showBackfillProgress(progress) },
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
