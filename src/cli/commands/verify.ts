import type { Command } from 'commander';
import { ExitCode, FerryError } from '../../core/errors.js';
import { locateExport } from '../../export/export-manifest.js';
import { parsePlan } from '../../mapping/validate-plan.js';
import { openTarget } from '../../target/open-target.js';
import { renderVerifyText } from '../../verify/report-text.js';
import type { VerifyLevel } from '../../verify/types.js';
import { verify } from '../../verify/verify.js';
import { choiceFlag, listFlag } from '../confirm.js';
import { commandContext, timed } from '../context.js';
import { liveSourceHint } from '../live-source-hint.js';
import { emit } from '../output.js';
import { createProgress, type ProgressReporter } from '../progress.js';
import { sharedFlag } from '../shared-flags.js';
import {
  openConfiguredSource,
  type SourceFlags,
  sourceLocation,
  withSourceOptions,
} from '../source-options.js';
import { countInBackground } from '../source-totals.js';
import { type VerifyFlags, verifyTuning, writeVerifyReports } from '../verify-flags.js';

interface VerifyCommandFlags extends SourceFlags, VerifyFlags {
  readonly only?: string;
  readonly schema?: string;
  readonly level: string;
  readonly resume?: boolean;
  readonly acceptRejects?: boolean;
  readonly reread?: boolean;
}

/**
 * `ferry verify [source] [--level count|deep|sample] [--fraction f] [--only a,b] [--schema s]
 * [--show-values] [--report out.html] [--resume] [--accept-rejects]`: prove the target holds what the source
 * holds. Exit 1 on any mismatch (a reconciliation check included) and, unless
 * `--accept-rejects`, while any document is rejected; index warnings do not fail.
 * A source that is a Ferry export (its path, or its `.manifest.json`) is checked through
 * the manifest's bucket sums, its documents read only to name differences, unless
 * `--reread` asks to read and hash them all again.
 */
export function registerVerify(program: Command): void {
  withSourceOptions(
    program
      .command('verify')
      .description('compare every document of the source with the target, and report what differs')
      .argument(
        '[source]',
        'mongodb:// URI, mongodump directory or archive, .json/.jsonl export, or JSON file(s)',
      ),
  )
    .option('--level <level>', 'count | deep | sample', 'deep')
    .addOption(sharedFlag('fraction'))
    .addOption(sharedFlag('seed'))
    .addOption(sharedFlag('only'))
    .option('--schema <name>', 'target schema (default: the config’s first schema, else public)')
    .addOption(sharedFlag('showValues'))
    .addOption(sharedFlag('report'))
    .option('--resume', 'continue the last unfinished run, skipping collections it finished')
    .addOption(sharedFlag('maxDifferences'))
    .addOption(sharedFlag('acceptRejects'))
    .option(
      '--reread',
      'a Ferry export as the source: read and hash every exported document again instead of comparing the target with the manifest',
    )
    .action(async (positional: string | undefined, flags: VerifyCommandFlags, command: Command) => {
      const given = sourceLocation(positional, flags);
      const { out, log, config } = await commandContext(
        command,
        given === undefined ? {} : { source: given },
      );
      const level = choiceFlag('--level', flags.level, VERIFY_LEVELS, 'VERIFY_BAD_LEVEL');
      if (config.mapping === undefined)
        throw new FerryError(`${config.configFile ?? 'ferry.config.ts'} has no mapping to verify against`, {
          code: 'VERIFY_NO_MAPPING',
          category: 'usage',
          hint: 'run `ferry infer <source>` (or `ferry migrate`) first',
        });
      const plan = parsePlan(config.mapping);
      // An export is read from where it was written, whether its path or its manifest was given.
      const found = config.source === undefined ? undefined : await locateExport(config.source);
      const source = await timed(log, 'source opened', () =>
        openConfiguredSource(found === undefined ? config : { ...config, source: found.to }, flags),
      );
      const progress = createProgress({ isTerminal: process.stderr.isTTY === true, enabled: !out.json });
      const stopCounting = countInBackground(source, progress);
      try {
        const db = await timed(log, 'target opened', () => openTarget(config.target));
        try {
          const result = await verify({
            source,
            db,
            plan,
            level,
            schema: flags.schema ?? config.schemas?.[0] ?? 'public',
            ...(flags.only !== undefined && { only: listFlag(flags.only) }),
            ...verifyTuning(flags),
            // With the target's URL, verify reads the target on a thread of its own.
            ...(config.target !== undefined && { targetUrl: config.target }),
            checks: config.verify?.checks ?? [],
            ...(config.source !== undefined && { sourceUri: config.source }),
            resume: flags.resume === true,
            acceptRejects: flags.acceptRejects === true,
            ...(found !== undefined && { export: found, reread: flags.reread === true }),
            onProgress: showVerifyProgress(progress),
          });
          stopCounting();
          progress.stop();
          if (flags.report !== undefined) await writeVerifyReports(flags.report, [result]);
          emit(out, result, () =>
            [
              renderVerifyText(result),
              // A live source that differs most likely changed after the load.
              ...(source.kind === 'mongodb'
                ? liveSourceHint(
                    result.collections
                      .filter((c) => c.missing + c.extra + c.content > 0)
                      .map((c) => c.collection),
                  )
                : []),
            ].join('\n'),
          );
          if (!result.ok) process.exitCode = ExitCode.problem;
        } finally {
          await db.close();
        }
      } finally {
        stopCounting();
        progress.stop();
        await source.close();
      }
    });
}

const VERIFY_LEVELS: readonly VerifyLevel[] = ['count', 'deep', 'sample'];
/** How verify's internal phases read on a bar. */
const VERIFY_PHASES: Readonly<Record<string, string>> = { count: 'count', hash: 'verify', narrow: 'narrow' };

/**
 * Feed verify progress into a progress reporter: one bar per collection and phase, the
 * previous collection's bars finished when the next one starts (verify goes one at a time).
 *
 * @example
 * declare const options: VerifyOptions;
 * declare const progress: ProgressReporter;
 * await verify({ ...options, onProgress: showVerifyProgress(progress) });
 */
export function showVerifyProgress(
  progress: ProgressReporter,
): (update: { collection: string; phase: string; documents: number }) => void {
  let current: string | undefined;
  const phases = new Set<string>();
  return ({ collection, phase, documents }) => {
    if (current !== undefined && current !== collection) {
      for (const p of phases) progress.finish(current, p);
      phases.clear();
    }
    current = collection;
    const shown = VERIFY_PHASES[phase] ?? phase;
    phases.add(shown);
    progress.update({ collection, phase: shown, done: documents });
  };
}
