import { z } from 'zod';

/** A figure's alert levels: a warning when it is over `warning`, critical when over `critical`. */
const levelsSchema = z
  .object({ warning: z.number().nonnegative().optional(), critical: z.number().nonnegative().optional() })
  .strict();

/**
 * `serve.thresholds` in ferry.config.ts: any level left out keeps its default.
 */
export const thresholdsConfigSchema = z
  .object({
    lagSeconds: levelsSchema.optional(),
    queueSize: levelsSchema.optional(),
    failedEvents: levelsSchema.optional(),
    openGaps: levelsSchema.optional(),
  })
  .strict();

/** The figures `/health/sync` judges, per domain and in total. */
export type SyncFigure = 'lagSeconds' | 'queueSize' | 'failedEvents' | 'openGaps';

/**
 * Alert levels per figure of `/health/sync`. A figure over its `warning` makes the domain
 * `degraded`, over its `critical` makes it `critical`.
 *
 * @example
 * const strict: SyncThresholds = { ...DEFAULT_THRESHOLDS, lagSeconds: { warning: 5, critical: 20 } };
 */
export type SyncThresholds = Readonly<
  Record<SyncFigure, { readonly warning: number; readonly critical: number }>
>;

/**
 * The defaults, from the alerting users already run on hand-built sync endpoints: lag over
 * 30 s warns and over 60 s is critical, a queue over 1,000 and 10,000, failed events over 10
 * and 100. An open gap means the stores differ for an entity until `ferry reconcile` copies
 * it, so any open gap warns (over 0), and over 1,000 is critical.
 *
 * @example
 * DEFAULT_THRESHOLDS.lagSeconds   // { warning: 30, critical: 60 }
 */
export const DEFAULT_THRESHOLDS: SyncThresholds = Object.freeze({
  lagSeconds: { warning: 30, critical: 60 },
  queueSize: { warning: 1000, critical: 10_000 },
  failedEvents: { warning: 10, critical: 100 },
  openGaps: { warning: 0, critical: 1000 },
});

/**
 * The thresholds of the config (`serve.thresholds`) over the defaults, level by level.
 *
 * @example
 * resolveThresholds({ lagSeconds: { warning: 10 } }).lagSeconds   // { warning: 10, critical: 60 }
 */
export function resolveThresholds(configured: z.output<typeof thresholdsConfigSchema> = {}): SyncThresholds {
  const out = {} as Record<SyncFigure, { warning: number; critical: number }>;
  for (const figure of Object.keys(DEFAULT_THRESHOLDS) as SyncFigure[])
    out[figure] = { ...DEFAULT_THRESHOLDS[figure], ...configured[figure] };
  return out;
}
