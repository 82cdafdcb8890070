import path from 'node:path';

/** A `mongodb://` (or any `scheme://`) URI is not a path, and never moves. */
function isPath(source: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(source);
}

/**
 * A config's `source` as a path to read: a relative path means relative to the config file's
 * folder, not to wherever the command runs, so `ferry verify --config .ferry/demo/ferry.config.ts`
 * finds the demo's archive from any folder.
 *
 * @example
 * resolveConfigSource('shop.archive', '/app/.ferry/demo/ferry.config.ts')   // '/app/.ferry/demo/shop.archive'
 * resolveConfigSource('mongodb://localhost/shop', '/app/ferry.config.ts')   // unchanged
 */
export function resolveConfigSource(source: string, configFile: string): string {
  return isPath(source) ? path.resolve(path.dirname(configFile), source) : source;
}

/**
 * The inverse, for writing a config: a local source as a path relative to the config file's
 * folder (so the config and the data can move together), a URI as it is.
 *
 * @example
 * configSourcePath('.ferry/demo/shop.archive', '.ferry/demo/ferry.config.ts')   // 'shop.archive'
 */
export function configSourcePath(source: string, configFile: string): string {
  if (!isPath(source)) return source;
  const relative = path.relative(path.dirname(path.resolve(configFile)), path.resolve(source));
  return relative === '' ? '.' : relative;
}
