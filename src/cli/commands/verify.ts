import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ExitCode, FerryError } from '../../core/errors.js';
import { parsePlan } from '../../mapping/validate-plan.js';
import { openTarget } from '../../target/open-target.js';
import { renderVerifyHtml } from '../../verify/report-html.js';
import { renderVerifyText } from '../../verify/report-text.js';
import type { VerifyLevel } from '../../verify/types.js';
import { verify } from '../../verify/verify.js';
import { choiceFlag, listFlag } from '../confirm.js';
import { commandContext, timed } from '../context.js';
import { liveSourceHint } from '../live-source-hint.js';
import { emit } from '../output.js';
import { createProgress } from '../progress.js';
import {
  openConfiguredSource,
  type SourceFlags,
  sourceLocation,
  withSourceOptions,
} from '../source-options.js';

interface VerifyFlags extends SourceFlags {
  readonly only?: string;
  readonly schema?: string;
  readonly level: string;
  readonly fraction?: string;
  readonly seed?: string;
  readonly showValues?: boolean;
  readonly report?: string;
  readonly resume?: boolean;
  readonly maxDifferences?: string;
  readonly acceptRejects?: boolean;
}

/**
 * `ferry verify [source] [--level count|deep|sample] [--fraction f] [--only a,b] [--schema s]
 * [--show-values] [--report out.html] [--resume] [--accept-rejects]`: prove the target holds what the source
 * holds. Exit 1 on any mismatch (a reconciliation check included) and, unless
 * `--accept-rejects`, while any document is rejected; index warnings do not fail.
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
    .option('--fraction <f>', 'sample level: share of documents to compare, in (0, 1]', '0.1')
    .option('--seed <n>', 'sample level: which sample (default random; printed, to repeat it)')
    .option('--only <collections>', 'comma-separated collections (default: all in the mapping)')
    .option('--schema <name>', 'target schema (default: the config’s first schema, else public)')
    .option('--show-values', 'print both values of each differing field (default: paths only)')
    .option('--report <file>', 'also write an HTML report')
    .option('--resume', 'continue the last unfinished run, skipping collections it finished')
    .option('--max-differences <n>', 'differences listed per collection', '1000')
    .option(
      '--accept-rejects',
      'exit 0 when the only missing documents are rejected ones (verdict stays "incomplete")',
    )
    .action(async (positional: string | undefined, flags: VerifyFlags, command: Command) => {
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
      const source = await timed(log, 'source opened', () => openConfiguredSource(config, flags));
      const progress = createProgress({ isTerminal: process.stderr.isTTY === true, enabled: !out.json });
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
            fraction: number(flags.fraction ?? '0.1', '--fraction'),
            ...(flags.seed !== undefined && { seed: number(flags.seed, '--seed') }),
            showValues: flags.showValues === true,
            maxDifferences: number(flags.maxDifferences ?? '1000', '--max-differences'),
            checks: config.verify?.checks ?? [],
            ...(config.source !== undefined && { sourceUri: config.source }),
            resume: flags.resume === true,
            acceptRejects: flags.acceptRejects === true,
            onProgress: ({ collection, phase, documents }) =>
              progress.update({ collection: `${collection} (${phase})`, done: documents }),
          });
          progress.stop();
          if (flags.report !== undefined) await writeFile(flags.report, renderVerifyHtml(result));
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
        progress.stop();
        await source.close();
      }
    });
}

const VERIFY_LEVELS: readonly VerifyLevel[] = ['count', 'deep', 'sample'];

function number(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n))
    throw new FerryError(`${flag} must be a number, not ${JSON.stringify(text)}`, {
      code: 'VERIFY_BAD_OPTION',
      category: 'usage',
    });
  return n;
}
