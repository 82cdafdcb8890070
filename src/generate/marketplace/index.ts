/** The seeded escrow-marketplace dataset behind `ferry demo` and the backfill benchmark. */
export {
  DEFAULT_MESSINESS,
  MARKETPLACE_COLLECTIONS,
  type MarketplaceCollection,
  type MarketplaceMessiness,
} from './context.js';
export {
  generateMarketplace,
  MARKETPLACE_PROPORTIONS,
  type MarketplaceCollectionData,
  type MarketplaceOptions,
  marketplaceCounts,
} from './generate-marketplace.js';
export { MARKETPLACE_INDEXES } from './indexes.js';
export {
  MARKETPLACE_DB,
  type MarketplaceArchiveOptions,
  writeMarketplaceArchive,
} from './write-marketplace-archive.js';
