import { z } from 'zod';

/**
 * A reconciliation check in the config (`verify.checks`): a business total computed on each
 * side, which must come out equal. Field names of the aggregation's output and column names
 * of the query must match; rows are compared as a multiset, numbers by exact value across
 * types (a Decimal128 sum equals a `numeric` sum), dates by instant.
 *
 * @example
 * const check: ReconcileCheck = {
 *   name: 'payment total',
 *   mongo: { collection: 'payments', pipeline: [{ $group: { _id: null, total: { $sum: '$amount' } } }, { $project: { _id: 0, total: 1 } }] },
 *   sql: 'select sum(amount) as total from payments',
 * };
 */
export const reconcileCheckSchema = z
  .object({
    name: z.string().min(1),
    mongo: z
      .object({
        collection: z.string().min(1),
        /** Stages as plain objects; Extended JSON (`{ $numberDecimal: '0' }`) is understood. */
        pipeline: z.array(z.record(z.string(), z.unknown())),
        /** The database, when the source URI names none. */
        database: z.string().min(1).optional(),
      })
      .strict(),
    /** Runs against the target; unqualified names resolve through the search path. */
    sql: z.string().min(1),
  })
  .strict();

/**
 * A reconciliation check as the config gives it (see `reconcileCheckSchema`).
 *
 * @example
 * const check: ReconcileCheck = { name: 'orders', mongo: { collection: 'orders', pipeline: [{ $count: 'n' }] }, sql: 'select count(*) as n from orders' };
 */
export type ReconcileCheck = z.output<typeof reconcileCheckSchema>;

/** The `verify` block of the config. */
export const verifyConfigSchema = z.object({ checks: z.array(reconcileCheckSchema).optional() }).strict();
