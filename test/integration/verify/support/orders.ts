import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Decimal128, type Document, EJSON, Int32, ObjectId } from 'bson';
import type { PlanInput } from '../../../../src/mapping/model.js';
import { child, col, collection, objectIdColumn, planOf, table } from '../../../support/plans.js';

/**
 * The verification test collection: orders with a child table of items (Decimal128 prices,
 * Int32 quantities), a missing-or-present note, a string array, an unmapped `meta` object
 * (so it lives in `_extra`), and one document `toRows` rejects (a NUL in a string).
 *
 * The plan of the orders, with money (total, item prices) of the given type.
 */
export function ordersPlanWith(money: { pgType: string; sourceType: 'decimal' | 'double' }): PlanInput {
  return planOf(
    collection(
      'orders',
      [
        table('orders', [
          objectIdColumn,
          col('customer', ['customer'], 'text', 'string'),
          col('total', ['total'], money.pgType, money.sourceType),
          col('placed', ['placed'], 'timestamptz', 'date'),
          col('note', ['note'], 'text', 'string'),
          col('tags', ['tags'], 'text[]', 'string'),
        ]),
        child('orders_items', 'orders', ['items'], 'array', [
          col('sku', ['sku'], 'text', 'string'),
          col('qty', ['qty'], 'integer', 'int'),
          col('price', ['price'], money.pgType, money.sourceType),
        ]),
      ],
      [
        { name: '_id_', key: { _id: 1 } },
        { name: 'customer_1', key: { customer: 1 } },
      ],
    ),
  );
}

export const ordersPlan: PlanInput = ordersPlanWith({ pgType: 'numeric', sourceType: 'decimal' });

/** `count` orders in a shuffled (not `_id`) order, plus the rejected one last. */
export function orderDocuments(count: number): Document[] {
  let state = 12345;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const docs: Document[] = [];
  for (let i = 0; i < count; i++) {
    const items = Array.from({ length: 3 + Math.floor(next() * 2) }, (_, k) => ({
      sku: `SKU-${i}-${k}`,
      qty: new Int32(1 + Math.floor(next() * 9)),
      price: Decimal128.fromString((1 + Math.floor(next() * 9999) / 100).toFixed(2)),
    }));
    const doc: Document = {
      _id: new ObjectId((0x5f000000 + i).toString(16).padStart(8, '0') + 'a1b2c3d4e5f6a7b8'.slice(0, 16)),
      customer: `customer ${i % 97}`,
      total: Decimal128.fromString(`${100 + i}.${String(i % 100).padStart(2, '0')}`),
      placed: new Date(Date.UTC(2024, 0, 1) + i * 3_600_123),
      tags: ['a', `t${i % 5}`],
      items,
      meta: { source: i % 2 ? 'web' : 'app', version: new Int32(2) },
    };
    if (i % 3 !== 0) doc.note = `note ${i}`;
    docs.push(doc);
  }
  for (let i = docs.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [docs[i], docs[j]] = [docs[j]!, docs[i]!];
  }
  docs.push({ _id: new ObjectId('65f000000000000000000bad'), customer: 'nul\u0000inside', items: [] });
  return docs;
}

/** The documents as a mongoexport-style file `orders.json` in a fresh folder; returns the file. */
export async function writeOrdersFile(docs: readonly Document[]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ferry-verify-'));
  const file = path.join(dir, 'orders.json');
  await writeFile(file, `${docs.map((d) => EJSON.stringify(d, { relaxed: false })).join('\n')}\n`);
  return file;
}

/** A `ferry.config.ts` holding the plan, next to the source file. */
export async function writeConfig(dir: string, extra: Record<string, unknown> = {}): Promise<void> {
  await writeFile(
    path.join(dir, 'ferry.config.ts'),
    `export default ${JSON.stringify({ mapping: ordersPlan, ...extra }, null, 2)};\n`,
  );
}
