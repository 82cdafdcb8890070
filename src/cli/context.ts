import type { Command } from 'commander';
import { loadConfig, type ResolvedConfig } from '../config/load.js';
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
  const options = command.optsWithGlobals<GlobalOptions>();
  const config = await loadConfig({
    ...(options.config !== undefined && { configPath: options.config }),
    ...(options.target !== undefined && { target: options.target }),
    ...(extra.source !== undefined && { source: extra.source }),
  });
  const json = options.json === true;
  const log = createLogger({ json, level: options.logLevel ?? config.logLevel ?? 'info' });
  return { out: processOutput(json), log, config };
}
