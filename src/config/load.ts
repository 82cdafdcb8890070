import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJiti } from 'jiti';
import type { z } from 'zod';
import { FerryError } from '../core/errors.js';
import { fileExists } from '../core/file-exists.js';
import { configSchema, type ValidConfig } from './schema.js';
import { resolveConfigSource } from './source-path.js';

export const DEFAULT_CONFIG_FILE = 'ferry.config.ts';

/**
 * What the command line adds to the config file, in the order `loadConfig` applies it.
 *
 * @example
 * const overrides: ConfigOverrides = { configPath: 'ops/ferry.config.ts', target: process.env.STAGING_URL };
 */
export interface ConfigOverrides {
  /** `--config`: an explicit file, which must exist. */
  readonly configPath?: string;
  /** `--target`, which wins over everything. */
  readonly target?: string;
  readonly source?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/**
 * A validated config with the overrides applied, and the file it came from.
 *
 * @example
 * const { target, schemas, configFile } = await loadConfig();
 */
export interface ResolvedConfig extends ValidConfig {
  /** The file the config came from, if any. */
  readonly configFile: string | undefined;
}

/**
 * Load `ferry.config.ts` (or `--config`), validate it, and apply the overrides in order:
 * file < `DATABASE_URL` < `--target`. A missing default file is fine; a missing explicit
 * file is a usage error.
 *
 * @example
 * const config = await loadConfig({ target: process.env.TARGET });
 */
export async function loadConfig(overrides: ConfigOverrides = {}): Promise<ResolvedConfig> {
  const cwd = overrides.cwd ?? process.cwd();
  const env = overrides.env ?? process.env;
  const explicit = overrides.configPath !== undefined;
  const file = path.resolve(cwd, overrides.configPath ?? DEFAULT_CONFIG_FILE);
  const exists = await fileExists(file);
  if (explicit && !exists) {
    throw new FerryError(`config file not found: ${file}`, {
      code: 'CONFIG_NOT_FOUND',
      category: 'usage',
      hint: 'check the --config path, or run `ferry infer` to write one',
    });
  }
  const fromFile = exists ? await parseConfigFile(file) : {};
  const target = overrides.target ?? env.DATABASE_URL ?? fromFile.target;
  // A source given on the command line is relative to where the command runs; one written
  // in the config, to the config's folder.
  const source =
    overrides.source ??
    (fromFile.source === undefined ? undefined : resolveConfigSource(fromFile.source, file));
  return { ...fromFile, target, source, configFile: exists ? file : undefined };
}

async function parseConfigFile(file: string): Promise<ValidConfig> {
  let exported: unknown;
  try {
    // jiti compiles TypeScript on the fly, so users need no build step for their config.
    const jiti = createJiti(import.meta.url, { moduleCache: false, fsCache: false, alias: selfAlias() });
    exported = await jiti.import(file, { default: true });
  } catch (cause) {
    throw new FerryError(`cannot load config ${file}: ${(cause as Error).message}`, {
      code: 'CONFIG_LOAD_FAILED',
      category: 'usage',
      cause,
    });
  }
  return validateConfig(exported, file);
}

/**
 * `import { defineConfig } from 'ferry'` in a config resolves to the running Ferry, whether or
 * not the config's folder has ferry in its node_modules (a config written by `ferry infer`
 * into any folder, run through `npx ferry` or a global install). It resolves to the small
 * config-authoring module, not the package entry: jiti would otherwise compile the whole
 * library and zod on every load (about 5 s instead of 0.5 s). The module sits next to this
 * file, as `.ts` when run from source and `.js` when built.
 */
function selfAlias(): Record<string, string> {
  const here = fileURLToPath(import.meta.url);
  return { ferry: path.join(path.dirname(here), `define-config${path.extname(here)}`) };
}

/** Validate a config value; the error lists one line per problem, each with its path. */
export function validateConfig(value: unknown, file = '<config>'): ValidConfig {
  const result = configSchema.safeParse(value);
  if (result.success) return result.data;
  const problems = describeIssues(result.error.issues);
  throw new FerryError(`invalid config ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
    code: 'CONFIG_INVALID',
    category: 'usage',
  });
}

export function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const at = issue.path.length ? issue.path.join('.') : '(root)';
    if (issue.code === 'unrecognized_keys') return `${at}: unknown key(s) ${issue.keys.join(', ')}`;
    return `${at}: ${issue.message}`;
  });
}
