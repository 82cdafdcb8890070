import { z } from 'zod';

/**
 * The cutover gates' thresholds and windows (`cutover` in ferry.config.ts). The defaults are
 * the values of the users' cutover checklist (issue 15): fewer than 10 open gaps, shadow reads
 * for days with zero mismatches, PostgreSQL's p95 at most 1.5 × MongoDB's, a recent clean
 * deep verify and a recent rollback drill.
 */
export const cutoverConfigSchema = z
  .object({
    /** Open gaps tolerated when the primary does not move (moving it needs 0). */
    maxOpenGaps: z.number().int().nonnegative().default(10),
    /** How old the last clean deep verify of the domain's collections may be. */
    verifyMaxAgeHours: z.number().positive().default(24),
    /** The window over which shadow reads are counted and their latencies compared. */
    shadowWindowHours: z.number().positive().default(72),
    /** Shadow reads the window must hold, so that "zero mismatches" is not vacuous. */
    minShadowReads: z.number().int().positive().default(1000),
    /** PostgreSQL's p95 may be at most this many times MongoDB's. */
    maxP95Ratio: z.number().positive().default(1.5),
    /** The age of the oldest undelivered outbox event tolerated (phase pg_primary). */
    maxOutboxLagSeconds: z.number().nonnegative().default(60),
    /** How old the last passed rollback drill may be. */
    drillMaxAgeHours: z.number().positive().default(168),
    /**
     * How long a domain must have been in `pg_read` before the primary moves: every app
     * instance re-reads its phases at least every poll interval, and a write in `pg_read` is
     * made under the domain's lock, so after this time every instance writes coherently.
     */
    settleSeconds: z.number().nonnegative().default(5),
    /** The longest the flip waits for in-flight writes before it gives up (and changes nothing). */
    lockTimeoutMs: z.number().int().positive().default(5000),
  })
  .strict();

/**
 * The thresholds with every default filled in.
 *
 * @example
 * const limits: CutoverLimits = cutoverConfigSchema.parse({ maxOpenGaps: 5 });
 * limits.maxP95Ratio   // 1.5
 */
export type CutoverLimits = z.output<typeof cutoverConfigSchema>;

/**
 * The limits of a config (its `cutover` section, defaults for what it leaves out).
 *
 * @example
 * cutoverLimits(undefined).minShadowReads   // 1000
 */
export function cutoverLimits(section: z.input<typeof cutoverConfigSchema> | undefined): CutoverLimits {
  return cutoverConfigSchema.parse(section ?? {});
}
