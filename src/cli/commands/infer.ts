import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE } from '../../config/load.js';
import { configSourcePath } from '../../config/source-path.js';
import { ExitCode, FerryError } from '../../core/errors.js';
import { fileExists } from '../../core/file-exists.js';
import { type InferredMapping, inferMapping } from '../../infer/infer-mapping.js';
import { readModels } from '../../infer/models/read-models.js';
import { checkPlanAgainstStats } from '../../infer/propose-check.js';
import { renderReport } from '../../infer/report-render.js';
import { renderConfig } from '../../infer/write-config.js';
import { checkPlan } from '../../mapping/validate-plan.js';
import { commandContext } from '../context.js';
import { emit, type Output } from '../output.js';
import { createProgress } from '../progress.js';
import { sharedFlag } from '../shared-flags.js';
import {
  openConfiguredSource,
  type SourceFlags,
  sourceLocation,
  withSourceOptions,
} from '../source-options.js';

interface InferOptions extends SourceFlags {
  readonly out?: string;
  readonly sample?: string;
  readonly full?: boolean;
  readonly force?: boolean;
  readonly check?: boolean;
  readonly models?: string;
}

/**
 * `ferry infer <source> [-o ferry.config.ts] [--sample N | --full] [--force] [--check] [--models <path>]`
 *
 * With `--models`: the application's Mongoose models are imported in a child process and what
 * they declare is merged with the data's evidence (see `mergeModels`).
 * Without `--check`: read the source, propose a mapping, print the report and write the
 * config. An existing config is never overwritten without `--force`, and that refusal
 * happens before the source is read. With `--check`: write nothing; check the mapping of the
 * existing config (`--config`, else ./ferry.config.ts) against the source's data, and exit 2
 * listing every column that would lose data, with its path in the config and the reason.
 */
export function registerInfer(program: Command): void {
  withSourceOptions(
    program
      .command('infer')
      .description('propose a mapping from the data: write ferry.config.ts and explain every decision')
      .argument(
        '[source]',
        'mongodb:// URI, mongodump directory or archive, .json/.jsonl export, or JSON file(s)',
      ),
  )
    .option('-o, --out <file>', `where to write the config (default: ./${DEFAULT_CONFIG_FILE})`)
    .addOption(sharedFlag('sample'))
    .option('--full', 'analyse every document (the default)')
    .option('--force', 'overwrite an existing config file')
    .option('--check', "check the existing config's mapping against the data; write nothing")
    .option(
      '--models <path>',
      'your Mongoose models (a folder, or the module importing them): merge what they declare with the data',
    )
    .action(async (positional: string | undefined, options: InferOptions, command: Command) => {
      const given = sourceLocation(positional, options);
      const { out, config } = await commandContext(command, given === undefined ? {} : { source: given });
      const sample = parseSample(options);
      const target = path.resolve(options.out ?? DEFAULT_CONFIG_FILE);
      if (options.check) {
        if (config.mapping === undefined)
          throw new FerryError(`${config.configFile ?? DEFAULT_CONFIG_FILE} has no mapping to check`, {
            code: 'INFER_NO_MAPPING',
            category: 'usage',
            hint: 'run `ferry infer <source>` first to propose one',
          });
        // Unknown types and impossible pairs are refused before the source is even opened.
        const structural = checkPlan(config.mapping);
        if (!structural.ok) return refuse(out, structural.problems, []);
      } else if (!options.force && (await fileExists(target))) {
        throw new FerryError(`${target} already exists; not overwriting it`, {
          code: 'INFER_CONFIG_EXISTS',
          category: 'usage',
          hint: 'pass --force to replace it, or --check to check its mapping against the data',
        });
      }

      // Read before the source is opened: a model module that throws is reported at once.
      const models = options.models === undefined ? undefined : await readModels(options.models);
      const opened = await openConfiguredSource(config, options);
      const progress = createProgress({ isTerminal: process.stderr.isTTY === true, enabled: !out.json });
      let inferred: InferredMapping;
      try {
        inferred = await inferMapping(opened, {
          ...(sample === undefined ? {} : { sample }),
          ...(models ? { models } : {}),
          onProgress: (p) => progress.update({ collection: p.collection, phase: 'infer', done: p.read }),
        });
      } finally {
        progress.stop();
        await opened.close();
      }
      const { snapshot } = inferred;

      if (options.check) {
        const check = checkPlanAgainstStats(config.mapping, snapshot);
        if (!check.ok) return refuse(out, check.problems, check.warnings);
        emit(out, { ok: true, problems: [], warnings: prefixed(check.warnings) }, () =>
          [
            `the mapping in ${config.configFile} holds every value seen in the source`,
            ...prefixed(check.warnings).map((w) => `warning: ${w.path}: ${w.reason}`),
          ].join('\n'),
        );
        return;
      }

      const { plan, report } = inferred;
      const text = renderConfig(plan, report, { source: configSourcePath(config.source!, target) });
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, text, 'utf8');
      emit(out, { config: target, plan, report }, () => `${renderReport(report)}\nwrote ${target}`);
    });
}

function parseSample(options: InferOptions): number | undefined {
  if (options.sample === undefined) return undefined;
  if (options.full)
    throw new FerryError('--sample and --full contradict each other', {
      code: 'INFER_BAD_SAMPLE',
      category: 'usage',
      hint: 'pass one: --sample N analyses N documents per collection, --full all of them',
    });
  const n = Number(options.sample);
  if (!/^\d+$/.test(options.sample) || !Number.isSafeInteger(n) || n < 1)
    throw new FerryError(`--sample must be a positive whole number, got "${options.sample}"`, {
      code: 'INFER_BAD_SAMPLE',
      category: 'usage',
      hint: 'pass e.g. --sample 10000, or --full to read everything',
    });
  return n;
}

/** Paths in problems point into the plan; in a config file the plan sits under `mapping`. */
function prefixed(problems: readonly { path: string; reason: string }[]): { path: string; reason: string }[] {
  return problems.map((p) => ({ path: `mapping.${p.path}`, reason: p.reason }));
}

function refuse(
  out: Output,
  problems: readonly { path: string; reason: string }[],
  warnings: readonly { path: string; reason: string }[],
): void {
  const list = prefixed(problems);
  emit(out, { ok: false, problems: list, warnings: prefixed(warnings) }, () =>
    [
      `the mapping is refused (${list.length} problem(s)); nothing was written:`,
      ...list.map((p) => `  ${p.path}: ${p.reason}`),
    ].join('\n'),
  );
  process.exitCode = ExitCode.usage;
}
