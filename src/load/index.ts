/**
 * The backfill: read batches → `toRows` → one transaction per chunk and schema holding the
 * rows (COPY), the rejects and the checkpoint. See backfill.ts for the whole flow,
 * collection-phase.ts for a collection's state machine, write-chunk.ts for exactly-once and
 * bad-row isolation, rejects.ts for `ferry rejects`.
 *
 * @example
 * declare const plan: Plan;
 * declare const source: Source;
 * declare const target: TargetDatabase;
 * const summary = await backfill({ source, target, plan, schemas: ['app'] });
 */
export { backfill } from './backfill.js';
export { type Chunk, prepareChunk, prepareChunks } from './chunk.js';
export { advance, type CollectionPhase, isFinal } from './collection-phase.js';
export { EncodedDocuments } from './encoded-documents.js';
export { idText, type RawEncoding, type RejectRecord, type RejectStage } from './reject-record.js';
export {
  listRejects,
  type RejectDetail,
  type RejectEntry,
  type RejectFilter,
  type RetryResult,
  retryRejects,
  showReject,
} from './rejects.js';
export { type AfterLoadProblem, finishSchema, prepareSchema } from './schema-setup.js';
export { type Checkpoint, positionFromJson, positionToJson, readCheckpoint } from './state-store.js';
export { type TableTarget, tableTargets, type WriteMode } from './table-writer.js';
export type {
  BackfillOptions,
  BackfillProgress,
  BackfillSummary,
  CollectionSummary,
  RejectSample,
} from './types.js';
export {
  type ChunkResult,
  type ChunkTarget,
  isRowFailure,
  writeChunk,
  writeIsolated,
} from './write-chunk.js';
