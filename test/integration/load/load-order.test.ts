import { describe, expect } from 'vitest';
import { backfill } from '../../../src/load/backfill.js';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { openSource } from '../../../src/sources/open.js';
import type { Source } from '../../../src/sources/types.js';
import { test } from '../../support/fixtures.js';
import { postgresUrl } from '../../support/services.js';
import { customers, orders, planInput, writeSource } from './support.js';

/**
 * With `--parallel`, the heaviest collections start first (estimated count × tables), so a
 * run does not end with one big collection loading alone. Observed through the source: the
 * collections read while the other slot is still busy are the ones started first.
 */
const available = postgresUrl() !== undefined;

describe.skipIf(!available)('backfill with --parallel', () => {
  test('starts the collection with the most tables before lighter ones listed earlier in the plan', async ({
    db,
  }) => {
    // Plan order: two one-table collections, then orders with its child table.
    const [customerPlan, orderPlan] = planInput.collections;
    const suppliers = {
      ...customerPlan!,
      name: 'suppliers',
      tables: [{ ...customerPlan!.tables[0]!, name: 'suppliers' }],
    };
    const plan = parsePlan({ ...planInput, collections: [customerPlan!, suppliers, orderPlan!] });
    const dir = await writeSource({
      customers: customers(20),
      suppliers: customers(20),
      orders: orders(200),
    });
    const source = await openSource(dir);
    const started: string[] = [];
    const recording: Source = {
      kind: source.kind,
      location: source.location,
      listCollections: () => source.listCollections(),
      countDocuments: (collection) => source.countDocuments(collection),
      read: (collection, options) => {
        started.push(collection);
        return source.read(collection, options);
      },
      readAll: (options) => source.readAll(options),
      close: () => source.close(),
    };
    try {
      const summary = await backfill({
        source: recording,
        target: db,
        plan,
        schemas: ['ordered'],
        parallel: 2,
      });
      expect(summary.ok).toBe(true);
    } finally {
      await source.close();
    }
    // Two slots: the first two collections start together, the third only when one is done.
    expect(started).toHaveLength(3);
    expect(started.slice(0, 2)).toContain('orders');
    expect(started[2]).not.toBe('orders');
  });
});
