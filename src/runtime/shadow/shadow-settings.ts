import { z } from 'zod';

/**
 * The `shadow` section of `ferry.config.ts`: how shadow reads sample, wait and keep what they
 * find. Every key has a default, so `shadow` can be left out.
 */
export const shadowConfigSchema = z
  .object({
    /** The share of reads shadowed, 0..1 (default 1: every read). */
    sample: z.number().min(0).max(1).optional(),
    /** The candidate's hard timeout in ms (default 2000); a slower candidate counts as timed out. */
    timeoutMs: z.number().int().positive().max(600_000).optional(),
    /** Mismatches kept per domain in `ferry.shadow_mismatches`, the newest (default 1000). */
    mismatchCap: z.number().int().nonnegative().max(10_000_000).optional(),
    /** How often the counts are added to `ferry.shadow_reads`, in ms (default 1000). */
    flushIntervalMs: z.number().int().positive().max(3_600_000).optional(),
    /** Candidates in flight at most per process; a read beyond it is not shadowed (default 64). */
    maxInFlight: z.number().int().positive().max(100_000).optional(),
    /**
     * A difference is read again (both sides) this many times before it counts as a mismatch
     * (default 3), after `recheckDelayMs` (default 100), doubled before each next recheck, so a
     * write caught between the two reads is not reported as drift.
     */
    rechecks: z.number().int().nonnegative().max(10).optional(),
    recheckDelayMs: z.number().int().nonnegative().max(60_000).optional(),
    /** Strings in stored mismatch values are cut to this many characters (default 200). */
    maxValueLength: z.number().int().positive().max(100_000).optional(),
  })
  .strict();

/**
 * The `shadow` config as written.
 *
 * @example
 * const shadow: ShadowConfig = { sample: 0.1, timeoutMs: 500, mismatchCap: 200 };
 */
export type ShadowConfig = z.input<typeof shadowConfigSchema>;

/**
 * The `shadow` config with every default filled in.
 *
 * @example
 * shadowSettings({ sample: 0.5 }).timeoutMs   // 2000
 */
export type ShadowSettings = Required<ShadowConfig>;

/**
 * Fill in the defaults of the `shadow` config.
 *
 * @example
 * shadowSettings(undefined).mismatchCap   // 1000
 */
export function shadowSettings(config: ShadowConfig | undefined): ShadowSettings {
  return {
    sample: config?.sample ?? 1,
    timeoutMs: config?.timeoutMs ?? 2000,
    mismatchCap: config?.mismatchCap ?? 1000,
    flushIntervalMs: config?.flushIntervalMs ?? 1000,
    maxInFlight: config?.maxInFlight ?? 64,
    rechecks: config?.rechecks ?? 3,
    recheckDelayMs: config?.recheckDelayMs ?? 100,
    maxValueLength: config?.maxValueLength ?? 200,
  };
}
