import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Document, Int32, ObjectId } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFerry } from '../../support/cli.js';
import { createTestDatabase, mongoUrl, postgresUrl } from '../../support/services.js';
import {
  type AnyIdDoc,
  seedClient,
  seedCollection,
  uniqueDatabase,
  withDatabase,
} from '../sources/mongodb-helpers.js';

/**
 * "Changes in a live source after a load" (issue 11): an insert, an update and a delete in
 * MongoDB (FerretDB) after `migrate`. A second `migrate` finds the collection up-to-date and
 * must say plainly that such changes are not picked up, what `ferry sync` will do, and the
 * narrowest reload that exists today; verify catches all three and says the same; the
 * reload it names makes verify complete again.
 */
const mongo = mongoUrl();
const url = postgresUrl();

describe.skipIf(!mongo || !url)('a live source that changes after the load', () => {
  let db: { url: string; drop: () => Promise<void> };
  let cwd: string;
  let source: string;
  const client = mongo ? seedClient(mongo) : undefined;
  const name = uniqueDatabase('live_changes');
  const ids = Array.from(
    { length: 20 },
    (_, i) => new ObjectId(`65c0000000000000000000${i.toString(16).padStart(2, '0')}`),
  );
  const ferry = (...args: string[]) => runFerry([...args, '--target', db.url], { cwd });

  beforeAll(async () => {
    db = await createTestDatabase('live_changes');
    cwd = await mkdtemp(path.join(tmpdir(), 'ferry-live-'));
    await client!.connect();
    await seedCollection(client!, name, 'items').insertMany(
      ids.map((_id, i): AnyIdDoc => ({ _id, n: new Int32(i), name: `item ${i}` })),
    );
    source = withDatabase(mongo!, name);
    const first = await ferry('migrate', source);
    expect(first.code, first.stdout + first.stderr).toBe(0);
  }, 300_000);

  afterAll(async () => {
    await client
      ?.db(name)
      .dropDatabase()
      .catch(() => {});
    await client?.close();
    await db?.drop();
  });

  it('migrate says up-to-date, and plainly what that means for a live source and what to run', async () => {
    const items = seedCollection(client!, name, 'items');
    await items.insertOne({ _id: new ObjectId('65c00000000000000000ffff'), n: new Int32(99), name: 'new' });
    await items.updateOne({ _id: ids[3]! } as Document, { $set: { name: 'renamed' } });
    await items.deleteOne({ _id: ids[7]! } as Document);
    const again = await ferry('migrate', source);
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/items\s+public\s+up-to-date/);
    expect(again.stdout).toMatch(/note: the source is a live MongoDB/);
    expect(again.stdout).toMatch(/`ferry sync` \(not available yet\) will repair them in place/);
    expect(again.stdout).toMatch(/ferry backfill --only items --force --yes/);
  });

  it('verify catches the insert, the update and the delete, and names the same remedy', async () => {
    const result = await ferry('verify', source, '--json');
    expect(result.code).toBe(1);
    const json = JSON.parse(result.stdout);
    expect(json.collections[0]).toMatchObject({ missing: 1, extra: 1, content: 1 });
    const text = await ferry('verify', source);
    expect(text.stdout).toMatch(/ferry backfill --only items --force --yes/);
  });

  it('the reload it names makes verify complete', async () => {
    const reload = await ferry('backfill', source, '--only', 'items', '--force', '--yes');
    expect(reload.code, reload.stdout + reload.stderr).toBe(0);
    const verified = await ferry('verify', source);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/verify \(deep\): complete/);
  });
});
