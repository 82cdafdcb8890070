import { z } from 'zod';
import { planSchema } from '../mapping/model.js';
import { cutoverConfigSchema } from '../runtime/cutover/cutover-config.js';
import { shadowConfigSchema } from '../runtime/shadow/shadow-settings.js';
import { thresholdsConfigSchema } from '../serve/thresholds.js';
import { verifyConfigSchema } from '../verify/reconcile-config.js';

/**
 * The user's `ferry.config.ts`, validated. Kept strict (unknown keys are errors) because a
 * typo in a config key would otherwise be silently ignored, and a migration tool must not
 * ignore what its user wrote.
 */
export const configSchema = z
  .object({
    /** A `mongodb://` URI, a dump directory, an archive, an export or a JSON file. */
    source: z.string().min(1).optional(),
    /** A `postgres://` URL. Without one (and without DATABASE_URL) Ferry uses embedded PGlite. */
    target: z.string().min(1).optional(),
    /** Target schemas; several load the same data into each (a production and a test copy). */
    schemas: z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]*$/, 'must be a plain SQL identifier'))
      .min(1)
      .optional(),
    batchSize: z.number().int().positive().max(1_000_000).optional(),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional(),
    /** Plain JSON sources: where the records are inside each file, and which field is the id. */
    json: z
      .object({
        /** RFC 6901 pointer to the records (`/data/users`); the collection takes its last token. */
        pointer: z.string().startsWith('/', 'must be a JSON pointer starting with "/"').optional(),
        /** The field holding each record's id (moved to `_id`); default: `_id`, else the map key. */
        idField: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    /** The reviewed mapping (what `ferry infer` proposes); validated like any plan. */
    mapping: planSchema.optional(),
    /** `ferry verify`: reconciliation checks (a MongoDB aggregation and a SQL query that must agree). */
    verify: verifyConfigSchema.optional(),
    /**
     * The runtime's domains: named sets of collections that cut over together (DESIGN.md "The
     * runtime"), e.g. `{ money: { collections: ['payments', 'ledger'] } }`.
     */
    domains: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'must be a name of letters, digits, _ and -'),
        z.object({ collections: z.array(z.string().min(1)).min(1).readonly() }).strict(),
      )
      .superRefine((domains, context) => {
        const owner = new Map<string, string>();
        for (const [name, domain] of Object.entries(domains)) {
          for (const collection of domain.collections) {
            const other = owner.get(collection);
            if (other !== undefined && other !== name)
              context.addIssue({
                code: 'custom',
                path: [name, 'collections'],
                message: `collection "${collection}" is already in domain "${other}"; a collection belongs to one domain`,
              });
            owner.set(collection, name);
          }
        }
      })
      .optional(),
    /**
     * The runtime's shadow reads: `sample` (0..1), the candidate's `timeoutMs`, the
     * `mismatchCap` kept per domain, and how mismatches are rechecked and cleaned.
     */
    shadow: shadowConfigSchema.optional(),
    /**
     * `ferry serve`: the alert thresholds of `/health/sync` (lag in seconds, queue size, failed
     * events, open gaps; each `{ warning, critical }`, a figure over the level raises it).
     */
    serve: z.object({ thresholds: thresholdsConfigSchema.optional() }).strict().optional(),
    /**
     * `ferry cutover`: the gates' thresholds and windows (open gaps, shadow-read window and
     * minimum, p95 ratio, outbox lag, verify and drill age, settle time, flip lock timeout).
     */
    cutover: cutoverConfigSchema.optional(),
  })
  .strict();

/**
 * What `ferry.config.ts` exports: the source, the target, the target schemas, the reviewed
 * mapping and the verification checks. Validated when loaded; unknown keys are errors.
 *
 * @example
 * const config: FerryConfig = { source: 'dump/', target: 'postgres://app@localhost/shop', schemas: ['public'] };
 */
export type FerryConfig = z.input<typeof configSchema>;
export type ValidConfig = z.output<typeof configSchema>;

export { defineConfig } from './define-config.js';
