import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EJSON, Int32 } from 'bson';
import { customers, oid, planInput } from '../../integration/load/support.js';

/**
 * A folder with `orders.jsonl` of `count` generated orders (the load tests' shape: an items
 * array for the child table, a reference, an occasional stray field for `_extra`) and a
 * ten customers they reference, and a ferry.config.ts mapping both, written line by line so a million documents never sit in memory.
 */
export async function writeGeneratedOrders(count: number): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ferry-dashboard-'));
  await writeFile(
    path.join(dir, 'customers.jsonl'),
    `${customers(10)
      .map((d) => EJSON.stringify(d, { relaxed: false }))
      .join('\n')}\n`,
  );
  const out = createWriteStream(path.join(dir, 'orders.jsonl'));
  const batch: string[] = [];
  for (let i = 0; i < count; i++) {
    batch.push(
      EJSON.stringify(
        {
          _id: oid(i, 2),
          customer: oid(i % 10, 1),
          note: `order ${i}`,
          qty: new Int32(i % 50),
          items: Array.from({ length: i % 4 }, (_, j) => ({ sku: `sku-${i}-${j}`, n: new Int32(j + 1) })),
          ...(i % 11 === 0 ? { stray: { deep: [1, 'two'] } } : {}),
        },
        { relaxed: false },
      ),
    );
    if (batch.length === 5000 || i === count - 1) {
      if (!out.write(`${batch.join('\n')}\n`)) await once(out, 'drain');
      batch.length = 0;
    }
  }
  out.end();
  await once(out, 'finish');
  await writeFile(
    path.join(dir, 'ferry.config.ts'),
    `export default ${JSON.stringify({ source: dir, mapping: planInput })};\n`,
  );
  return dir;
}
