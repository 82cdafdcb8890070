import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BSON, type Document, Int32, ObjectId } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfill } from '../../../src/load/backfill.js';
import { retryFromSource } from '../../../src/load/retry-from-source.js';
import type { PlanInput } from '../../../src/mapping/model.js';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { writeArchive } from '../../../src/sources/archive/write-archive.js';
import { openSource } from '../../../src/sources/open.js';
import { openTarget } from '../../../src/target/open-target.js';
import type { TargetDatabase } from '../../../src/target/target-database.js';
import { runFerry } from '../../support/cli.js';
import { createTestDatabase, mongoUrl, postgresUrl, repoRoot } from '../../support/services.js';
import {
  type AnyIdDoc,
  seedClient,
  seedCollection,
  uniqueDatabase,
  withDatabase,
} from '../sources/mongodb-helpers.js';
import { sql } from './support.js';

/**
 * "A fixed source must be reloadable" (issue 11): after the user fixes what the source got
 * wrong, `ferry rejects retry --from-source` and a resumed backfill load the fixed documents,
 * resolve their rejects and make verify complete, on every source kind that can reject a
 * single document.
 */
const url = postgresUrl();

function planFor(
  collection: string,
  id: { pgType: string; sourceType: string },
): ReturnType<typeof parsePlan> {
  const input = {
    version: 1,
    collections: [
      {
        name: collection,
        tables: [
          {
            name: 'items',
            columns: [
              { name: 'id', path: ['_id'], ...id, nullable: false },
              { name: 'n', path: ['n'], pgType: 'integer', sourceType: 'int', nullable: false },
              { name: 'name', path: ['name'], pgType: 'text', sourceType: 'string', nullable: true },
            ],
          },
        ],
      },
    ],
  } as PlanInput;
  return parsePlan(input);
}
const OBJECT_ID = { pgType: 'uuid', sourceType: 'objectId' };

const docAt = (i: number): Document => ({
  _id: new ObjectId(`65b0000000000000000000${i.toString(16).padStart(2, '0')}`),
  n: new Int32(i),
  name: `item ${i}`,
});

/** Five documents as BSON, the third with a string that claims a million bytes (`_id` still readable). */
function bsonWithBadThird(): { good: Buffer; bad: Buffer } {
  const docs = [0, 1, 2, 3, 4].map((i) => Buffer.from(BSON.serialize(docAt(i))));
  const good = Buffer.concat(docs);
  const broken = docs.map((d) => Buffer.from(d));
  broken[2]!.writeInt32LE(1_000_000, broken[2]!.indexOf('name\0') + 5);
  return { good, bad: Buffer.concat(broken) };
}

describe.skipIf(!url)('reloading documents after the source is fixed', () => {
  let database: { url: string; drop: () => Promise<void> };
  let db: TargetDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('reload_fixed');
    db = await openTarget(database.url);
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  /** Load `location` into `schema`: one read reject; fix it; reload with `reload`; all five loaded. */
  async function rejectFixReload(
    location: string,
    schema: string,
    plan: ReturnType<typeof parsePlan>,
    fix: () => Promise<void>,
    reload: 'retry' | 'resume',
  ): Promise<void> {
    const first = await openSource(location);
    const summary = await backfill({ source: first, target: db, plan, schemas: [schema] });
    await first.close();
    expect(summary).toMatchObject({ ok: false, rejected: 1 });
    expect(summary.collections[0]).toMatchObject({ read: 5, migrated: 4, rejected: 1 });
    await fix();
    const fixed = await openSource(location);
    try {
      if (reload === 'retry') {
        const result = await retryFromSource(db, plan, fixed, { schema });
        expect(result).toMatchObject({ stillRejected: [], notInSource: [] });
        expect(result.resolved).toHaveLength(1);
      } else {
        const again = await backfill({ source: fixed, target: db, plan, schemas: [schema] });
        expect(again).toMatchObject({ ok: true, rejected: 0, wroteNothing: false });
        expect(again.collections[0]).toMatchObject({
          phase: 'up-to-date',
          read: 5,
          migrated: 5,
          rejected: 0,
          reread: { resolved: 1, stillRejected: 0 },
        });
      }
    } finally {
      await fixed.close();
    }
    const [count] = await sql<{ n: string }>(database.url, `select count(*) as n from "${schema}".items`);
    expect(count?.n).toBe('5');
    const open = await sql(
      database.url,
      'select id from ferry.rejects where schema = $1 and resolved_at is null',
      [schema],
    );
    expect(open).toEqual([]);
    const [checkpoint] = await sql(
      database.url,
      'select read, migrated, rejected from ferry.checkpoints where schema = $1',
      [schema],
    );
    expect(checkpoint).toEqual({ read: '5', migrated: '5', rejected: '0' });
  }

  it.each(['retry', 'resume'] as const)(
    'a dump folder: the damaged document restored, then %s loads it',
    async (reload) => {
      const dir = await mkdtemp(path.join(tmpdir(), 'ferry-reload-dump-'));
      const { good, bad } = bsonWithBadThird();
      await mkdir(path.join(dir, 'shop'));
      const file = path.join(dir, 'shop', 'items.bson');
      await writeFile(file, bad);
      await rejectFixReload(
        dir,
        `dump_${reload}`,
        planFor('items', OBJECT_ID),
        () => writeFile(file, good),
        reload,
      );
    },
  );

  it.each(['retry', 'resume'] as const)(
    'an archive: the damaged document restored, then %s loads it',
    async (reload) => {
      const dir = await mkdtemp(path.join(tmpdir(), 'ferry-reload-archive-'));
      const file = path.join(dir, 'shop.archive');
      await writeArchive(file, 'shop', [{ name: 'items', docs: [0, 1, 2, 3, 4].map(docAt) }]);
      const good = await readFile(file);
      const third = Buffer.from(BSON.serialize(docAt(2)));
      const at = good.indexOf(third);
      expect(at).toBeGreaterThan(0);
      const bad = Buffer.from(good);
      bad.writeInt32LE(1_000_000, at + third.indexOf('name\0') + 5);
      await writeFile(file, bad);
      await rejectFixReload(
        file,
        `archive_${reload}`,
        planFor('items', OBJECT_ID),
        () => writeFile(file, good),
        reload,
      );
    },
  );

  it.each(['retry', 'resume'] as const)(
    'a plain JSON file: the record with a conflicting _id corrected, then %s loads it',
    async (reload) => {
      const dir = await mkdtemp(path.join(tmpdir(), 'ferry-reload-plain-'));
      const file = path.join(dir, 'items.json');
      const records = (third: string) =>
        JSON.stringify({
          a: { n: 0, name: 'item 0' },
          b: { n: 1, name: 'item 1' },
          c: { _id: third, n: 2, name: 'item 2' },
          d: { n: 3, name: 'item 3' },
          e: { n: 4, name: 'item 4' },
        });
      await writeFile(file, records('not-c'));
      await rejectFixReload(
        file,
        `plain_${reload}`,
        planFor('items', { pgType: 'text', sourceType: 'string' }),
        () => writeFile(file, records('c')),
        reload,
      );
    },
  );

  it.each(['retry', 'resume'] as const)(
    'an Extended JSON file: line 3 repaired, then %s loads it',
    async (reload) => {
      const dir = await mkdtemp(path.join(tmpdir(), 'ferry-reload-ejson-'));
      const file = path.join(dir, 'items.json');
      const lines = [0, 1, 2, 3, 4].map((i) => BSON.EJSON.stringify(docAt(i), { relaxed: false }));
      const broken = [...lines];
      broken[2] = lines[2]!.slice(0, lines[2]!.indexOf('"n"') + 4);
      await writeFile(file, `${broken.join('\n')}\n`);
      await rejectFixReload(
        file,
        `ejson_${reload}`,
        planFor('items', OBJECT_ID),
        () => writeFile(file, `${lines.join('\n')}\n`),
        reload,
      );
    },
  );

  it('the CLI: rejects retry points to --from-source, which loads the repaired line, and verify is complete', async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'ferry-reload-cli-'));
    const file = path.join(cwd, 'bad-line.json');
    await copyFile(path.join(repoRoot, 'test/fixtures/damaged/json/bad-line.json'), file);
    const target = await createTestDatabase('reload_fixed_cli');
    try {
      const ferry = (...args: string[]) => runFerry([...args, '--target', target.url], { cwd });
      expect((await ferry('migrate', file)).code).toBe(1);
      const plain = await ferry('rejects', 'retry');
      expect(plain.code).toBe(1);
      expect(plain.stdout).toMatch(
        /not retryable 1 \(read rejects: fix the source, then `ferry rejects retry --from-source`\)/,
      );
      const text = await readFile(file, 'utf8');
      await writeFile(
        file,
        text.replace(
          /^\{"_id":\{"\$oid":"5ca4bbc7a2dd94ee58162303"\},"n":$/m,
          '{"_id":{"$oid":"5ca4bbc7a2dd94ee58162303"},"n":{"$numberInt":"3"},"name":"doc 3"}',
        ),
      );
      const retried = await ferry('rejects', 'retry', '--from-source');
      expect(retried.code, retried.stderr).toBe(0);
      expect(retried.stdout).toMatch(/from the source: resolved 1, still rejected 0, not in the source 0/);
      const verified = await ferry('verify');
      expect(verified.code).toBe(0);
      expect(verified.stdout).toMatch(/verify \(deep\): complete/);
    } finally {
      await target.drop();
    }
  });
});

const mongo = mongoUrl();

describe.skipIf(!url || !mongo)('reloading from a live source (FerretDB) after the document is fixed', () => {
  it('a document rejected by the mapping, corrected in MongoDB, loads with retry --from-source', async () => {
    const name = uniqueDatabase('reload');
    const client = seedClient(mongo!);
    const database = await createTestDatabase('reload_fixed_live');
    const db = await openTarget(database.url);
    try {
      await client.connect();
      const items = seedCollection(client, name, 'items');
      // The third document lacks `n`, which the mapping says is NOT NULL: a transform reject.
      await items.insertMany(
        [0, 1, 2, 3, 4].map((i) =>
          i === 2 ? { _id: docAt(i)._id, name: 'item 2' } : (docAt(i) as AnyIdDoc),
        ),
      );
      const plan = planFor('items', OBJECT_ID);
      const location = withDatabase(mongo!, name);
      const first = await openSource(location);
      const summary = await backfill({ source: first, target: db, plan });
      expect(summary).toMatchObject({ ok: false, rejected: 1 });
      await items.updateOne({ _id: docAt(2)._id }, { $set: { n: new Int32(2) } });
      const fixed = await openSource(location);
      try {
        const result = await retryFromSource(db, plan, fixed);
        expect(result.resolved).toHaveLength(1);
        expect(result).toMatchObject({ stillRejected: [], notInSource: [] });
      } finally {
        await first.close();
        await fixed.close();
      }
      const { rows } = await db.query<{ n: number }>('select n from public.items order by n');
      expect(rows.map((r) => r.n)).toEqual([0, 1, 2, 3, 4]);
    } finally {
      await client.close();
      await db.close();
      await database.drop();
    }
  });
});
