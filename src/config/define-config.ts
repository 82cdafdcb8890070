import type { FerryConfig } from './schema.js';

/**
 * Identity function that gives `ferry.config.ts` its types.
 *
 * It lives alone in this file because `loadConfig` points a config's `import … from 'ferry'`
 * here (see `selfAlias` in load.ts): a config then loads without compiling the whole library
 * (and zod) on the fly, which took seconds per command.
 *
 * @example
 * // ferry.config.ts
 * import { defineConfig } from 'ferry';
 * export default defineConfig({ source: 'mongodb://localhost/shop', schemas: ['public'] });
 */
export function defineConfig(config: FerryConfig): FerryConfig {
  return config;
}
