/**
 * Ferry's public library surface. Everything an application or a script may rely on is
 * re-exported here; anything else is internal and may change.
 */

export { type ConfigOverrides, loadConfig, type ResolvedConfig, validateConfig } from './config/load.js';
export { defineConfig, type FerryConfig } from './config/schema.js';
export {
  asFerryError,
  describeLocation,
  type ErrorCategory,
  type ErrorClass,
  type ErrorLocation,
  ExitCode,
  exitCodeFor,
  FerryError,
} from './core/errors.js';
export { createLogger, type Logger, type LoggerOptions } from './core/log.js';
export { redactSecrets, redactUri } from './core/redact.js';
export { connectPostgres } from './target/connect.js';
