import type { Command } from 'commander';
import { loadConfig, type ResolvedConfig } from '../config/load.js';
import { FerryError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/log.js';
import { type Output, processOutput } from './output.js';

/** Options every command accepts (DESIGN.md "Command line"). */
export interface GlobalOptions {
  readonly json?: boolean;
  readonly config?: string;
  readonly target?: string;
  readonly logLevel?: string;
}

export interface CommandContext {
  readonly out: Output;
  readonly log: Logger;
  readonly config: ResolvedConfig;
}

/** Build what a command needs from its parsed options: output, logger and resolved config. */
export async function commandContext(
  command: Command,
  extra: { source?: string } = {},
): Promise<CommandContext> {
  const started = performance.now();
  const options = command.optsWithGlobals<GlobalOptions>();
  const level = logLevel(options.logLevel);
  const config = await loadConfig({
    ...(options.config !== undefined && { configPath: options.config }),
    ...(options.target !== undefined && { target: options.target }),
    ...(extra.source !== undefined && { source: extra.source }),
  });
  const json = options.json === true;
  const log = createLogger({ json, level: level ?? logLevel(config.logLevel) ?? 'info' });
  log.trace({ command: commandPath(command) }, 'command started');
  log.debug(
    { configFile: config.configFile ?? null, ms: Math.round(performance.now() - started) },
    'config loaded',
  );
  return { out: processOutput(json), log, config };
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** A `--log-level` (or config `logLevel`) checked here, so a typo is bad usage (exit 2). */
function logLevel(level: string | undefined): string | undefined {
  if (level === undefined) return undefined;
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level;
  throw new FerryError(`unknown log level "${level}"`, {
    code: 'USAGE_BAD_LOG_LEVEL',
    category: 'usage',
    hint: `use one of ${LOG_LEVELS.join(', ')}`,
  });
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Run `fn` and log how long it took at debug level: where a command's time goes
 * (`--log-level debug` shows opening the embedded database, the source, each step).
 *
 * @example
 * declare const config: ResolvedConfig;
 * const log = createLogger({ level: 'debug' });
 * const db = await timed(log, 'target opened', () => openTarget(config.target));
 */
export async function timed<T>(log: Logger, what: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await fn();
  log.debug({ ms: Math.round(performance.now() - started) }, what);
  return result;
}
