import { FerryError } from '../core/errors.js';

/**
 * The seed for generated data: `FERRY_SEED` when set (decimal or `0x` hex), else the default.
 * Tests print the seed they used, so a failure is reproduced with `FERRY_SEED=<n> npx vitest`.
 *
 * @example
 * const seed = seedFromEnv(20240601);
 * for (const { collection, doc } of generateNastyDocuments(seed, 1000)) console.log(collection, doc._id);
 */
export function seedFromEnv(defaultSeed: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.FERRY_SEED?.trim();
  if (raw === undefined || raw === '') return defaultSeed >>> 0;
  const value = /^0x[0-9a-f]+$/i.test(raw)
    ? Number.parseInt(raw.slice(2), 16)
    : /^\d+$/.test(raw)
      ? Number(raw)
      : Number.NaN;
  if (!Number.isSafeInteger(value) || value > 0xffffffff) {
    throw new FerryError(`FERRY_SEED=${JSON.stringify(raw)} is not a seed`, {
      code: 'GENERATE_BAD_SEED',
      category: 'usage',
      hint: 'use an integer from 0 to 4294967295 (decimal or 0x hex)',
    });
  }
  return value >>> 0;
}
