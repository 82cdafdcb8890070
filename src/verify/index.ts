/**
 * Verification (DESIGN.md pipeline: read source doc + toDoc(rows) → canonical hash → bucket
 * sums → bisect → diffs): the public surface of `src/verify`.
 *
 * @example
 * import { writeFile } from 'node:fs/promises';
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * declare const source: Source;
 * const result = await verify({ source, db, plan, schema: 'public', level: 'deep' });
 * await writeFile('verify.html', renderVerifyHtml(result));
 */
export {
  type BucketDifference,
  type BucketScanInput,
  type HashPassResult,
  hashPass,
  narrowBuckets,
  targetHash,
} from './bucket-scan.js';
export { BucketSums, bucketBits, bucketOf, DOCS_PER_BUCKET, samplePredicate } from './buckets.js';
export { type CountCheckInput, countCheck } from './count-check.js';
export { type DeepCheckInput, deepCheck } from './deep-check.js';
export { idHash, idText } from './document-id.js';
export { checkIndexParity } from './index-parity.js';
export { runReconcileChecks } from './reconcile.js';
export { type ReconcileCheck, reconcileCheckSchema, verifyConfigSchema } from './reconcile-config.js';
export { renderVerifyHtml } from './report-html.js';
export { renderVerifyText } from './report-text.js';
export {
  fetchTargetDocuments,
  fetchTargetDocumentsById,
  readTargetDocuments,
  type TargetDocument,
} from './target-reader.js';
export type * from './types.js';
export { verdictText, verifyVerdict } from './verdict.js';
export { type VerifyOptions, verify } from './verify.js';
export { lastVerifyRun, type VerifyRun } from './verify-runs.js';
