// An application instance in its own process, for the cutover tests: it loads ferry.config.ts
// from its working directory (the mapping, the domain `market`, the live MongoDB as `source`)
// with the target in DATABASE_URL, starts the public runtime, and writes continuously through
// `runtime.withPrimary('market', …)` from a few loops at once: in the phases where MongoDB is
// the primary a `$inc` of `appWrites` on one of its users through the runtime's
// wrapped collection (mirrored to PostgreSQL), where PostgreSQL is, the same increment with the
// app's own SQL (captured for the outbox). With FERRY_APP_LOG_TABLE set, every write also logs
// which store took it, by PostgreSQL's clock, while it still holds the domain lock: a MongoDB
// write after MongoDB acknowledged it, a PostgreSQL write inside its own transaction.
//
// Its users are FERRY_APP_USERS (`first:count` of the users in `_id` order), each loop writing
// its own share of them: FerretDB v1.24 applies concurrent updates of one document as
// read-modify-write and loses some (two clients' `$inc`s of one document), so writers that
// share a document could not tell a lost write of Ferry's from one of FerretDB's.
//
// Prints `ready` once a write of each loop succeeded. On SIGTERM it stops, lets the writes in
// flight finish, and prints one JSON line: the writes acknowledged per store and those that
// failed, with their errors' code and message (no values).
import type { ObjectId } from 'bson';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { createRuntime, loadConfig } from '../../../src/index.js';
import { objectIdToUuid } from '../../../src/mapping/identity.js';
import { primaryKey } from '../../../src/mapping/model.js';
import { parseMongoUri } from '../../../src/sources/mongodb/uri.js';

const DOMAIN = 'market';
const COLLECTION = 'users';
const LOOPS = 2;
const name = process.env.FERRY_APP_NAME ?? `app-${process.pid}`;
const logTable = process.env.FERRY_APP_LOG_TABLE;
const [first = 0, count = 4] = (process.env.FERRY_APP_USERS ?? '0:4').split(':').map(Number);

const config = await loadConfig();
if (config.source === undefined || config.target === undefined || config.mapping === undefined)
  throw new Error('app-writer needs `source` and `mapping` in ferry.config.ts and DATABASE_URL');
const client = new MongoClient(config.source, { serverSelectionTimeoutMS: 5000 });
const mongo = client.db(parseMongoUri(config.source).database);
const pool = new pg.Pool({ connectionString: config.target, max: LOOPS * 2 });
pool.on('error', () => {});
const runtime = await createRuntime({ mongo, pg: pool, config, pollIntervalMs: 200 });
const root = config.mapping.collections
  .find((c) => c.name === COLLECTION)!
  .tables.find((t) => t.parent === undefined)!;
const key = primaryKey(root)[0]!;
const ids = (
  await mongo
    .collection(COLLECTION)
    .find({}, { projection: { _id: 1 }, sort: { _id: 1 }, skip: first, limit: count })
    .toArray()
).map((d) => d._id as ObjectId);
if (ids.length < LOOPS) throw new Error(`app-writer needs ${LOOPS} users from ${first}, found ${ids.length}`);
const users = runtime.collection(COLLECTION);
const log = async (queryable: pg.Pool | pg.PoolClient, store: 'mongo' | 'pg') => {
  if (logTable !== undefined)
    await queryable.query(`insert into ${logTable} (writer, store) values ($1, $2)`, [name, store]);
};

const write = (id: ObjectId): Promise<'mongo' | 'pg'> =>
  runtime.withPrimary<'mongo' | 'pg'>(DOMAIN, {
    mongo: async () => {
      await users.updateOne({ _id: id }, { $inc: { appWrites: 1 } });
      await log(pool, 'mongo');
      return 'mongo';
    },
    pg: async (tx) => {
      const { rowCount } = await tx.query(
        `update "${root.name}" set _extra = jsonb_set(coalesce(_extra, '{}'::jsonb), '{appWrites}',
                to_jsonb(coalesce((_extra ->> 'appWrites')::int, 0) + 1)) where "${key}" = $1::uuid`,
        [objectIdToUuid(id)],
      );
      if (rowCount !== 1) throw new Error(`the PostgreSQL write found ${rowCount} rows for one user`);
      await log(tx, 'pg');
      return 'pg';
    },
  });

let stopping = false;
process.once('SIGTERM', () => {
  stopping = true;
});
const acknowledged = { mongo: 0, pg: 0 };
const failures: string[] = [];
let failed = 0;
let readyLoops = 0;
const loop = async (offset: number) => {
  let announced = false;
  const mine = ids.filter((_, i) => i % LOOPS === offset);
  for (let n = 0; !stopping; n++) {
    try {
      acknowledged[await write(mine[n % mine.length]!)]++;
      if (!announced) {
        announced = true;
        if (++readyLoops === LOOPS) process.stdout.write('ready\n');
      }
    } catch (error) {
      failed++;
      const code = (error as { code?: unknown }).code;
      if (failures.length < 10) failures.push(`${String(code ?? '')} ${(error as Error).message}`);
    }
  }
};
await Promise.all(Array.from({ length: LOOPS }, (_, i) => loop(i)));
await runtime.close();
await pool.end();
await client.close();
process.stdout.write(`${JSON.stringify({ name, acknowledged, failed, failures })}\n`);
