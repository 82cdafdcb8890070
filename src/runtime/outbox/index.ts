import { enqueueOutbox, outboxFigures, redriveOutbox } from './queue.js';
import { workOutbox } from './worker.js';

/**
 * The transactional outbox (DESIGN.md "The runtime", phase `pg_primary`): while PostgreSQL is
 * the primary, every change to a mapped table records its entity in `ferry.outbox` in the
 * writing transaction (capture triggers, installed by `ferry schema apply`; `enqueue` for
 * explicit events), and the worker (`ferry outbox work`, `work` here) delivers each entity's
 * current state to MongoDB.
 *
 * @example
 * import type { ObjectId } from 'bson';
 * declare const tx: TargetTransaction;
 * declare const db: TargetDatabase;
 * declare const stores: RuntimeStores;
 * declare const orderId: ObjectId;
 * await outbox.enqueue(tx, { plan: stores.plan, schema: 'public' }, 'orders', [orderId]);
 * await outbox.work(stores, { drain: true });
 * await outbox.redrive(db, { schema: 'public', collection: 'orders' });
 * const figures = await outbox.figures(db, 'public');
 */
export const outbox = Object.freeze({
  enqueue: enqueueOutbox,
  work: workOutbox,
  redrive: redriveOutbox,
  figures: outboxFigures,
});

export type { DeliveryOutcome, DeliveryPolicy } from './deliver.js';
export {
  enqueueOutbox,
  type OutboxFigures,
  type OutboxTarget,
  outboxFigures,
  type RedriveFilter,
  redriveOutbox,
} from './queue.js';
export {
  OUTBOX_CHANNEL,
  type OutboxBatchReport,
  type OutboxWorkerOptions,
  type OutboxWorkSummary,
  workOutbox,
} from './worker.js';
