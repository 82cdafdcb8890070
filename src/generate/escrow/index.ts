/** The seeded documents of the escrow example app (examples/escrow). */
export {
  ESCROW_COLLECTIONS,
  type EscrowCollection,
  type EscrowDataset,
  type EscrowOptions,
  generateEscrow,
} from './generate-escrow.js';
