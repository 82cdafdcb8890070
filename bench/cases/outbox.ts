// The outbox cases, one mode per process (argv: uri, plan file, mode, then the mode's numbers).
// The world (bench/outbox.ts) has the marketplace in FerretDB, backfilled into PostgreSQL
// schema `bench` with the capture triggers installed, purchaseRequests in a domain in phase
// pg_primary, and `<root>_plain`: the root table's copy without triggers.
// - `capture <writes>`: the same single-row write transaction (BEGIN, UPDATE by key, COMMIT,
//   three round trips, prepared) on the root table and on its plain copy, interleaved write by
//   write on one connection, each timed; the events it captured are deleted afterwards.
// - `concurrent <clients> <seconds>`: the same transaction from `clients` connections at once,
//   each on keys of its own (no row waits on another), as many as they can, in two rounds of
//   four turns of an eighth of `seconds` each: the plain copy; the root table while a worker
//   sleeps (it holds state step 21's sleepers mark and is never woken: every transaction
//   notifies, as every one did before step 21); the root table with no worker asleep (one
//   awake, lingering or delivering: no transaction notifies); the root table while a real
//   worker delivers. Transactions per second and notifications of each.
// - `ceiling <entities> <batch>`: the entities' documents, rebuilt from PostgreSQL through
//   toDoc (untimed), written to FerretDB by bare `bulkWrite`s of replaceOne upserts, `batch`
//   per call: the most the worker could deliver.
// - `drain <entities>`: one UPDATE captures the entities (one event each), then
//   `workOutbox({ drain: true })` delivers them all; timed from the worker's start.
// - `load <rate> <seconds>`: single-row write transactions at a fixed offered rate (an open
//   loop: each write starts at its slot, whatever the earlier ones did) while a worker runs;
//   then the queue is drained. Each event's lag is its delivered_at - enqueued_at.
// Every mode prints a CaseResult; any event left pending or dead fails the case.
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { workOutbox } from '../../src/runtime/outbox/worker.js';
import { parseMongoUri } from '../../src/sources/mongodb/uri.js';
import { openTarget } from '../../src/target/open-target.js';
import { fetchTargetDocuments } from '../../src/verify/target-reader.js';
import { BENCH_SCHEMA, targetUrl } from '../backfill-db.js';
import { readPlan } from '../backfill-inputs.js';
import { reportCase } from '../harness.js';
import { OUTBOX_BENCH_COLLECTION, rootOf } from '../outbox.js';

const [uri, planFile, mode, ...numbers] = process.argv.slice(2) as [string, string, string, ...string[]];
const [first = 0, second = 0] = numbers.map(Number);
const plan = await readPlan(planFile);
const root = rootOf(plan);
const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
const mongo = client.db(parseMongoUri(uri).database);
const pool = new pg.Pool({ connectionString: targetUrl(), max: 8 });
pool.on('error', () => {});
const table = (name: string) => `"${BENCH_SCHEMA}"."${name}"`;
const keys = (
  await pool.query<{ k: string }>(`select ${root.key}::text as k from ${table(root.table)} order by 1`)
).rows.map((r) => r.k);

try {
  if (mode === 'capture') await capture(first);
  else if (mode === 'concurrent') await concurrent(first, second);
  else if (mode === 'ceiling') await ceiling(first, second);
  else if (mode === 'drain') await drain(first);
  else if (mode === 'load') await load(first, second);
  else throw new Error(`unknown mode ${mode}`);
} finally {
  await pool.end();
  await client.close();
}

async function capture(writes: number): Promise<void> {
  const connection = await pool.connect();
  const sql = (name: string) =>
    `update ${table(name)} set "${root.column}" = "${root.column}" where "${root.key}" = $1::${root.keyType}`;
  const modes = [
    { name: 'plain', text: sql(`${root.table}_plain`) },
    { name: 'captured', text: sql(root.table) },
  ];
  const latencies = modes.map(() => new Float64Array(writes));
  const write = async (m: number, i: number) => {
    await connection.query('begin');
    await connection.query({ name: modes[m]!.name, text: modes[m]!.text, values: [keys[i % keys.length]] });
    await connection.query('commit');
  };
  try {
    for (let i = 0; i < 200; i++) for (let m = 0; m < modes.length; m++) await write(m, i);
    const started = performance.now();
    for (let i = 0; i < writes; i++)
      for (let m = 0; m < modes.length; m++) {
        const t = performance.now();
        await write(m, i + 200);
        latencies[m]![i] = performance.now() - t;
      }
    const seconds = (performance.now() - started) / 1000;
    const { rows } = await connection.query<{ n: number }>(
      `select count(distinct doc_key)::int as n from ferry.outbox where collection = $1`,
      [OUTBOX_BENCH_COLLECTION],
    );
    const captured = rows[0]?.n ?? 0;
    if (captured < Math.min(writes, keys.length))
      throw new Error(`the triggers captured ${captured} entities for ${writes} writes`);
    await connection.query('delete from ferry.outbox');
    const extra: Record<string, number> = { captured };
    for (const [m, { name }] of modes.entries()) {
      const sorted = latencies[m]!.sort();
      const at = (q: number) => round(sorted[Math.min(writes - 1, Math.floor(q * writes))]!, 3);
      extra[`${name}.p50`] = at(0.5);
      extra[`${name}.p95`] = at(0.95);
      extra[`${name}.p99`] = at(0.99);
      extra[`${name}.mean`] = round(sorted.reduce((a, b) => a + b, 0) / writes, 3);
    }
    reportCase({ docs: writes * modes.length, bytes: 0, seconds, extra });
  } finally {
    connection.release();
  }
}

async function concurrent(clients: number, seconds: number): Promise<void> {
  const sql = (name: string) =>
    `update ${table(name)} set "${root.column}" = "${root.column}" where "${root.key}" = $1::${root.keyType}`;
  const modes = [
    { name: 'plain', text: sql(`${root.table}_plain`) },
    { name: 'notifying', text: sql(root.table) },
    { name: 'captured', text: sql(root.table) },
    { name: 'worker', text: sql(root.table) },
  ];
  const done = modes.map(() => 0);
  const notified = modes.map(() => 0);
  const listener = new pg.Client(targetUrl());
  await listener.connect();
  let heard = 0;
  listener.on('notification', () => heard++);
  await listener.query('listen ferry_outbox');
  // The sleeping worker of the `notifying` turns: only its mark, on a connection of its own.
  const sleeper = new pg.Client(targetUrl());
  await sleeper.connect();
  const workerPool = new pg.Pool({ connectionString: targetUrl(), max: 2 });
  workerPool.on('error', () => {});
  const connections = await Promise.all(Array.from({ length: clients }, () => pool.connect()));
  try {
    // Two rounds of the four, so a change in the machine's load hits every side alike.
    for (const m of [0, 1, 2, 3, 0, 1, 2, 3]) {
      // Each turn starts from an empty queue (on a held connection: the pool has no other).
      await connections[0]!.query('delete from ferry.outbox');
      if (modes[m]!.name === 'notifying') {
        const { rows } = await sleeper.query<{ ok: boolean }>('select ferry.outbox_sleep($1, 10000) as ok', [
          BENCH_SCHEMA,
        ]);
        if (rows[0]?.ok !== true) throw new Error('the sleeping worker could not mark itself asleep');
      }
      const stop = new AbortController();
      const worker =
        modes[m]!.name === 'worker'
          ? workOutbox({ mongo, pg: workerPool, plan, schema: BENCH_SCHEMA }, { signal: stop.signal })
          : undefined;
      const heardBefore = heard;
      const until = performance.now() + (seconds * 1000) / 8;
      await Promise.all(
        connections.map(async (c, client) => {
          for (let i = client; performance.now() < until; i += clients) {
            await c.query('begin');
            await c.query({ name: modes[m]!.name, text: modes[m]!.text, values: [keys[i % keys.length]] });
            await c.query('commit');
            done[m]!++;
          }
        }),
      );
      // Notifications arrive after their commits: listen a moment longer.
      await new Promise((resolve) => setTimeout(resolve, 300));
      notified[m]! += heard - heardBefore;
      stop.abort();
      await worker;
      if (modes[m]!.name === 'notifying')
        await sleeper.query('select ferry.outbox_awake($1)', [BENCH_SCHEMA]);
    }
    await connections[0]!.query('delete from ferry.outbox');
  } finally {
    for (const c of connections) c.release();
    await workerPool.end();
    await sleeper.end();
    await listener.end();
  }
  const extra: Record<string, number> = { clients };
  for (const [m, { name }] of modes.entries()) {
    extra[`${name}.tps`] = Math.round(done[m]! / (seconds / 4));
    extra[`${name}.notifications`] = notified[m]!;
    extra[`${name}.transactions`] = done[m]!;
  }
  reportCase({ docs: done.reduce((a, b) => a + b, 0), bytes: 0, seconds, extra });
}

async function ceiling(entities: number, batch: number): Promise<void> {
  const where = { plan, collection: OUTBOX_BENCH_COLLECTION, schema: BENCH_SCHEMA };
  const { rows } = await pool.query(`select ${root.key} as k from ${table(root.table)} order by 1 limit $1`, [
    entities,
  ]);
  // Through the target as Ferry opens it (its type parsing, a UTC session), as verify reads.
  const db = await openTarget(targetUrl());
  const documents = await fetchTargetDocuments(
    db,
    where,
    rows.map((r) => r.k),
  )
    .then((found) => found.map((d) => d.doc!))
    .finally(() => db.close());
  const target = mongo.collection(OUTBOX_BENCH_COLLECTION);
  const started = performance.now();
  for (let i = 0; i < documents.length; i += batch)
    await target.bulkWrite(
      documents
        .slice(i, i + batch)
        .map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })),
      { ordered: false },
    );
  reportCase({ docs: documents.length, bytes: 0, seconds: (performance.now() - started) / 1000 });
}

async function drain(entities: number): Promise<void> {
  await pool.query(
    `update ${table(root.table)} set "${root.column}" = "${root.column}" where "${root.key}" in (
       select "${root.key}" from ${table(root.table)} order by 1 limit $1)`,
    [entities],
  );
  const started = performance.now();
  const summary = await workOutbox(stores(), { drain: true });
  const seconds = (performance.now() - started) / 1000;
  if (summary.pending + summary.deadInQueue > 0 || summary.entities < entities)
    throw new Error(`the worker left ${summary.pending} pending and ${summary.deadInQueue} dead`);
  reportCase({ docs: summary.delivered, bytes: 0, seconds, extra: { entities: summary.entities } });
}

async function load(rate: number, seconds: number): Promise<void> {
  // Only this case's events count: the drain's delivered ones are kept for the retention.
  await pool.query('delete from ferry.outbox');
  const stop = new AbortController();
  const worker = workOutbox(stores(), { signal: stop.signal, pollMs: 1000 });
  const total = Math.round(rate * seconds);
  const started = performance.now();
  let behind = 0;
  // Each write starts at its own slot (an open loop), on a pool of connections, so a slow
  // write delays no later one and the offered rate stays what was asked.
  const writes: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    else if (wait < -100) behind++;
    writes.push(
      (async () => {
        const c = await pool.connect();
        try {
          await c.query('begin');
          await c.query({
            name: 'write',
            text: `update ${table(root.table)} set "${root.column}" = "${root.column}" where "${root.key}" = $1::${root.keyType}`,
            values: [keys[i % keys.length]],
          });
          await c.query('commit');
        } finally {
          c.release();
        }
      })(),
    );
  }
  await Promise.all(writes);
  const offeredSeconds = (performance.now() - started) / 1000;
  const deadline = Date.now() + 120_000;
  while ((await pendingEvents()) > 0 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 200));
  stop.abort();
  const summary = await worker;
  if (summary.pending + summary.deadInQueue > 0)
    throw new Error(`the worker left ${summary.pending} pending and ${summary.deadInQueue} dead`);
  const { rows } = await pool.query<{ p50: number; p99: number; n: number; span: number }>(
    `select percentile_cont(0.5) within group (order by lag)::float8 as p50,
            percentile_cont(0.99) within group (order by lag)::float8 as p99, count(*)::int as n,
            extract(epoch from max(delivered_at) - min(enqueued_at))::float8 as span
       from (select delivered_at, enqueued_at, extract(epoch from delivered_at - enqueued_at) * 1000 as lag
               from ferry.outbox where status = 'delivered') e`,
  );
  const figures = rows[0]!;
  reportCase({
    docs: figures.n,
    bytes: 0,
    seconds: figures.span,
    extra: {
      offered: total,
      offeredSeconds: round(offeredSeconds, 2),
      lateStarts: behind,
      lagP50Ms: round(figures.p50, 1),
      lagP99Ms: round(figures.p99, 1),
      entities: summary.entities,
    },
  });
}

function stores() {
  return { mongo, pg: pool, plan, schema: BENCH_SCHEMA };
}

async function pendingEvents(): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `select count(*)::int as n from ferry.outbox where status = 'pending'`,
  );
  return rows[0]?.n ?? 0;
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
