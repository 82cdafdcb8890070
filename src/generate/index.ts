/** Seeded test data: documents that stress a mapping, reproducible from one seed. */

export * from './escrow/index.js';
export * from './marketplace/index.js';
export {
  type GeneratedDocument,
  type GenerateOptions,
  generateNastyDocuments,
  NASTY_COLLECTIONS,
  type NastyCollection,
} from './nasty-documents.js';
export { Random } from './random.js';
export { seedFromEnv } from './seed.js';
export { NASTY_KEYS, PG_TIMESTAMPTZ_MIN_MS } from './values.js';
