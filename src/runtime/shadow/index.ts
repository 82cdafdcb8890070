/**
 * Shadow reads (DESIGN.md "The runtime", phase `shadow_read`): the app's MongoDB read answers
 * the caller, PostgreSQL's answer is compared with it off the request path, and the outcomes,
 * both latencies and the mismatches are kept for the cutover gates. Also the read routing by
 * phase that the Mongoose plugin and the driver wrapper share.
 */
import type { Runtime } from '../runtime.js';
import type { ShadowReadOptions } from './shadow-read.js';

export { type CleanLimits, cleanValues } from './clean-values.js';
export { compareResults, type ReadShape, type ShadowDifference } from './compare-results.js';
export { applyProjection } from './projection.js';
export {
  type RoutedRead,
  readFromPostgres,
  readRoute,
  routableIds,
  shadowRoutedRead,
} from './read-routing.js';
export type { Shadower, ShadowJob, ShadowReadOptions } from './shadow-read.js';
export type { ShadowCounts, ShadowOutcome } from './shadow-recorder.js';
export { type ShadowConfig, type ShadowSettings, shadowSettings } from './shadow-settings.js';
export { type SortSpec, sortDocuments } from './sort-documents.js';

/**
 * `runtime.shadowRead` as a function: the primary's answer, at the primary's latency, with
 * PostgreSQL's compared off the request path while the domain is in phase `shadow_read`.
 *
 * @example
 * import type { ObjectId } from 'bson';
 * import type { Model } from 'mongoose';
 * declare const runtime: Runtime;
 * declare const Wallet: Model<{ balance: number }>;
 * declare const id: ObjectId;
 * const wallet = await shadowRead(runtime, 'money', {
 *   collection: 'wallets',
 *   ids: [id],
 *   primary: () => Wallet.findById(id).lean(),
 * });
 */
export function shadowRead<T>(runtime: Runtime, domain: string, options: ShadowReadOptions<T>): Promise<T> {
  return runtime.shadowRead(domain, options);
}
