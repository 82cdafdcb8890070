import type { IndexSpec, Source } from '../sources/types.js';
import { type CollectProgress, collectStats, type SampleMode } from './collect-stats.js';
import { mergeModels } from './models/merge-models.js';
import { ModelObserver } from './models/model-observations.js';
import type { ModelSchemas } from './models/model-schema.js';
import { type Proposal, proposeMapping } from './propose.js';
import type { InferenceSnapshot } from './snapshot.js';

/**
 * How `inferMapping` reads the source.
 *
 * @example
 * declare const source: Source;
 * await inferMapping(source, { sample: 10_000, onProgress: (p) => console.log(p.collection, p.read) });
 */
export interface InferMappingOptions {
  /** Analyse a sample of N documents per collection instead of all of them. */
  readonly sample?: number;
  /** How the sample is taken (see `SampleMode`; default `random`). */
  readonly sampleMode?: SampleMode;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: CollectProgress) => void;
  /**
   * The application's Mongoose models (from `readModels`): what they declare is merged with
   * the data's evidence (see `mergeModels`), in the same one read of the source.
   */
  readonly models?: ModelSchemas;
}

/**
 * A proposed mapping: the plan, the report that explains every decision, and the field
 * statistics it came from (which `ferry infer --check` compares an edited mapping with).
 *
 * @example
 * declare const source: Source;
 * const { plan, report, snapshot } = await inferMapping(source);
 */
export interface InferredMapping extends Proposal {
  readonly snapshot: InferenceSnapshot;
}

/**
 * Read a source once and propose its mapping: field statistics (with the source's indexes)
 * turned into a plan and the report that explains it. What `ferry infer` and `ferry migrate`
 * both run.
 *
 * @example
 * const { plan, report } = await inferMapping(await openSource('dump/'));
 */
export async function inferMapping(
  source: Source,
  options: InferMappingOptions = {},
): Promise<InferredMapping> {
  const infos = await source.listCollections();
  const indexes: Record<string, readonly IndexSpec[]> = Object.fromEntries(
    infos.map((c) => [c.name, c.indexes]),
  );
  const observer = options.models ? ModelObserver.forModels(options.models) : undefined;
  const stats = await collectStats(observer ? observer.watch(source) : source, {
    ...(options.sample === undefined ? {} : { sample: options.sample }),
    ...(options.sampleMode === undefined ? {} : { sampleMode: options.sampleMode }),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const snapshot = stats.snapshot();
  const proposal = proposeMapping(snapshot, { indexes });
  if (!options.models || !observer) return { ...proposal, snapshot };
  return { ...mergeModels(proposal, snapshot, options.models, observer), snapshot };
}
