import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transferIds } from '../../../examples/escrow/app/transfer-ids.js';
import { objectIdToUuid } from '../../../src/mapping/identity.js';
import { formatLatencyMs, mergeHistograms, quantileMs } from '../../../src/runtime/latency-histogram.js';
import { spawnFerry } from '../../support/cli.js';
import { TcpProxy } from '../runtime/support.js';
import {
  createEscrowWorld,
  type EscrowWorld,
  type ExampleProcess,
  servicesReady,
  startApp,
  startExample,
} from './support.js';

/**
 * Issue 15's walk-through: three app instances (separate processes) under the load generator
 * (200 transfers/s offered, each retried with its key until acknowledged), while `money` and
 * `users` walk every phase to `pg_only` with the real CLI, with one rollback from pg_primary
 * to pg_read and forward again, and chaos: FerretDB away for 5 s in dual_write, PostgreSQL away
 * for 5 s in pg_primary, an outbox worker killed. The apps reach both stores through proxies
 * the test stops (see TcpProxy for why not the real servers); the operator's commands do not.
 *
 * Opt-in (FERRY_ESCROW_WALKTHROUGH=1): it runs for 8 minutes or more on the shared two-core
 * machine, more than CI's `npm test` can give it. History: it used to wedge after FerretDB's
 * outage (admission control fixed that, examples/escrow/app/admission.ts); then `pg_read` was
 * refused by the p95_ratio gate, because shadow candidates were timed while they queued for a
 * pg connection behind the write path's copies (now: the runtime's read pool, and a candidate
 * timed from when it holds a connection); then the rollback to pg_read refused, 2,711 outbox
 * events undelivered, as FerretDB scans the whole ledger for each replaceOne (now: insert
 * first). It first passed to the end on 6 Dec 2026 at 15:17 UTC. On a busier machine the drill
 * in pg_primary then failed with the outbox over 10 s behind (now: the drill waits for what it is
 * still delivering), and one shadow mismatch refused pg_primary (now: a recheck that cannot
 * finish is no mismatch, and the rechecks' waits double); it passed again at 17:03 UTC. The
 * figures are in examples/escrow/README.md. afterAll prints the flips' pauses, both sides'
 * shadow latency and the stored shadow mismatches.
 */
const DOMAINS = ['money', 'users'] as const;

// Opt-in: longer than CI's `npm test` can give it (see above); vitest lists it as skipped otherwise.
const optedIn = process.env.FERRY_ESCROW_WALKTHROUGH === '1';

describe.skipIf(!servicesReady || !optedIn)(
  'the escrow walk-through: every phase to pg_only under load, with chaos',
  () => {
    let world: EscrowWorld;
    let mongoProxy: TcpProxy;
    let pgProxy: TcpProxy;
    const apps: { url: string; process: ExampleProcess }[] = [];
    let load: ExampleProcess | undefined;
    const log: string[] = [];
    const workers: ReturnType<typeof spawnFerry>[] = [];

    beforeAll(async () => {
      world = await createEscrowWorld('walk', 150, {
        // The checklist's windows are days; this walk takes minutes. Every read is shadowed.
        cutover: {
          shadowWindowHours: 1,
          minShadowReads: 100,
          verifyMaxAgeHours: 2,
          drillMaxAgeHours: 2,
          settleSeconds: 2,
        },
        shadow: { sample: 1 },
      });
      const m = await TcpProxy.for(world.mongoUri);
      mongoProxy = m.proxy;
      const p = await TcpProxy.for(world.targetUrl);
      pgProxy = p.proxy;
      // The schema first (the apps' runtime needs ferry's state), loaded while nothing writes yet
      // is not the point: the backfill below runs under load.
      for (let i = 0; i < 3; i++) apps.push(await startApp(world, { mongo: m.url, pg: p.url }));
      const started = await startExample(
        'load.ts',
        [
          '--targets',
          apps.map((a) => a.url).join(','),
          '--mongo',
          world.mongoUri,
          '--rate',
          '200',
          '--read-rate',
          '30',
          '--max-in-flight',
          '3000',
          '--out',
          path.join(world.dir, 'load-out'),
        ],
        {},
        'started',
      );
      load = started.process;
    }, 600_000);

    afterAll(async () => {
      // Printed whether the walk passed or not: the flips' pauses, and the load as it stands.
      const flips = await world?.pool
        .query(
          `select domain, from_phase, to_phase, figures->'pause' as pause from ferry.domain_events
            where to_phase in ('pg_primary', 'pg_read') and from_phase in ('pg_primary', 'pg_read') order by id`,
        )
        .then((r) => r.rows)
        .catch(() => []);
      console.log(`flips: ${JSON.stringify(flips)}`);
      // Both sides' shadow-read latency per domain, for a p95_ratio refusal to be judged.
      const shadow = await world?.pool
        .query<{ domain: string; p: string; c: string }>(
          `select domain, to_json(primary_ms)::text as p, to_json(candidate_ms)::text as c from ferry.shadow_reads`,
        )
        .then((r) => r.rows)
        .catch(() => []);
      for (const domain of DOMAINS) {
        const rows = (shadow ?? []).filter((r) => r.domain === domain);
        const side = (key: 'p' | 'c') => {
          const h = mergeHistograms(rows.map((r) => JSON.parse(r[key]) as number[]));
          return [0.5, 0.9, 0.95, 0.99].map((q) => `p${q * 100} ${formatLatencyMs(quantileMs(h, q) ?? 0)}`);
        };
        console.log(
          `shadow latency ms of ${domain}: MongoDB ${side('p').join(', ')}; PostgreSQL ${side('c').join(', ')}`,
        );
      }
      // What a shadow_mismatches refusal saw: the test's own data, so the values are printed too.
      const mismatches = await world?.pool
        .query(
          `select domain, collection, doc_id, paths, primary_value, candidate_value, at from ferry.shadow_mismatches order by id`,
        )
        .then((r) => r.rows)
        .catch((error: unknown) => [String(error)]);
      console.log(`shadow mismatches: ${JSON.stringify(mismatches)}`);
      const state = await readFile(path.join(world.dir, 'load-out/state.json'), 'utf8').catch(() => '');
      console.log(`load at the end: ${state}`);
      if (load !== undefined) console.log(`load generator stderr (tail):\n${load.stderr().slice(-3000)}`);
      await load?.stop('SIGKILL');
      for (const w of workers) w.kill('SIGKILL');
      await Promise.all(apps.map((a) => a.process.stop()));
      await mongoProxy?.start().catch(() => {});
      await pgProxy?.start().catch(() => {});
      await mongoProxy?.stop();
      await pgProxy?.stop();
      await world?.close();
    });

    const ferry = async (args: string[], expectOk = true) => {
      const started = Date.now();
      const result = await world.ferry(args);
      const line = `ferry ${args.join(' ')} → ${result.code} (${Date.now() - started} ms, ${(await acked()).length} acknowledged so far)`;
      // Printed as it happens: a walk that fails part-way still shows how far it came and when.
      console.log(`${new Date().toISOString()} ${line}`);
      log.push(`${line}\n${result.stdout.slice(0, 2000)}`);
      if (expectOk)
        expect(result.code, `ferry ${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
      return result;
    };
    const cutover = (domain: string, to: string, extra: string[] = []) =>
      ferry(['cutover', domain, '--to', to, '--yes', '--source', world.mongoUri, ...extra]);
    const acked = async () =>
      (await readFile(path.join(world.dir, 'load-out/acks.jsonl'), 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean);
    const waitForAcks = async (more: number) => {
      const target = (await acked()).length + more;
      const deadline = Date.now() + 300_000;
      const started = Date.now();
      while ((await acked()).length < target) {
        if (Date.now() > deadline) throw new Error(`fewer than ${more} new acknowledgements in 5 minutes`);
        await new Promise((r) => setTimeout(r, 500));
      }
      console.log(`${new Date().toISOString()} ${more} more acknowledged in ${Date.now() - started} ms`);
    };
    /** Pause the offering, and wait until no transfer is open (each acknowledged or refused). */
    const pauseLoad = async () => {
      load!.child.kill('SIGUSR1');
      const started = Date.now();
      for (;;) {
        await new Promise((r) => setTimeout(r, 500));
        const state = await readFile(path.join(world.dir, 'load-out/state.json'), 'utf8')
          .then((text) => JSON.parse(text) as { paused: boolean; open: number })
          .catch(() => undefined);
        if (state?.paused === true && state.open === 0) break;
        if (Date.now() - started > 900_000)
          throw new Error(`transfers still open 15 minutes after the pause: ${JSON.stringify(state)}`);
      }
      console.log(
        `${new Date().toISOString()} load paused, no transfer open after ${Date.now() - started} ms`,
      );
    };
    /** Wait until `domain` has `reads` compared shadow reads (the gate asks for 100). */
    const waitForShadowReads = async (domain: string, reads: number) => {
      const started = Date.now();
      for (;;) {
        const { rows } = await world.pool.query(
          'select coalesce(sum(matched + mismatched), 0)::int as n from ferry.shadow_reads where domain = $1',
          [domain],
        );
        if (rows[0].n >= reads) break;
        if (Date.now() - started > 600_000)
          throw new Error(`${domain}: ${rows[0].n} compared shadow reads after 10 minutes`);
        await new Promise((r) => setTimeout(r, 1000));
      }
      console.log(
        `${new Date().toISOString()} ${domain}: ${reads} compared shadow reads after ${Date.now() - started} ms`,
      );
    };
    const resumeLoad = () => load!.child.kill('SIGUSR2');
    const startOutboxWorker = () => {
      const worker = spawnFerry(
        [
          'outbox',
          'work',
          world.mongoUri,
          '--config',
          world.configPath,
          '--target',
          world.targetUrl,
          '--poll',
          '200',
        ],
        world.dir,
      );
      workers.push(worker);
      return worker;
    };
    async function postgresLedgerMismatches(): Promise<unknown[]> {
      const { rows } = await world.pool.query(
        `select w.id from wallets w left join ledger l on l.wallet = w.id group by w.id
       having w.balance_minor <> coalesce(sum(l.amount_minor), 0) or w.entry_seq <> count(l.id)`,
      );
      return rows;
    }
    /**
     * Wallets whose balance or entry count in MongoDB is not their ledger's there, each with
     * both stores' figures, so a failure says which side lost what.
     */
    async function mongoLedgerMismatches(): Promise<unknown[]> {
      const db = world.mongo.db(new URL(world.mongoUri).pathname.slice(1));
      // Summed here: FerretDB v1.24's $group gives 0 for { $sum: 1 }.
      const byWallet = new Map<string, { sum: number; n: number }>();
      for await (const entry of db
        .collection('ledger')
        .find({}, { projection: { wallet: 1, amountMinor: 1 } })) {
        const s = byWallet.get(String(entry.wallet)) ?? { sum: 0, n: 0 };
        s.sum += Number(entry.amountMinor);
        s.n += 1;
        byWallet.set(String(entry.wallet), s);
      }
      const wallets = await db.collection('wallets').find().toArray();
      const wrong = wallets.filter((w) => {
        const s = byWallet.get(String(w._id));
        return (s?.sum ?? 0) !== w.balanceMinor || (s?.n ?? 0) !== w.entrySeq;
      });
      const { rows } = await world.pool.query<{
        id: string;
        balance: string;
        seq: number;
        sum: string;
        n: number;
      }>(
        `select w.id::text, w.balance_minor::text as balance, w.entry_seq as seq,
                coalesce(sum(l.amount_minor), 0)::text as sum, count(l.id)::int as n
           from wallets w left join ledger l on l.wallet = w.id where w.id = any($1::uuid[]) group by w.id`,
        [wrong.map((w) => objectIdToUuid(w._id))],
      );
      const postgres = new Map(rows.map((r) => [r.id, r]));
      return wrong.map((w) => {
        const s = byWallet.get(String(w._id));
        return {
          wallet: String(w._id),
          mongo: { balance: w.balanceMinor, seq: w.entrySeq, ledgerSum: s?.sum ?? 0, entries: s?.n ?? 0 },
          postgres: postgres.get(objectIdToUuid(w._id)),
        };
      });
    }

    it('walks money and users from mongo to pg_only, and every acknowledged transfer and balance holds', async () => {
      await waitForAcks(60);
      // The backfill of a live source: verify would see the writes made during it, so it is run
      // below once dual writes and sync have brought PostgreSQL level.
      await ferry(['migrate', world.mongoUri, '--yes', '--verify', 'none']);
      for (const d of DOMAINS)
        await cutover(d, 'dual_write', [
          '--force',
          '--reason',
          'backfill of a live source; sync repairs the drift next',
        ]);
      await ferry(['sync', world.mongoUri]);
      await waitForAcks(40);

      // Chaos 1: FerretDB away for 5 s in dual_write. Requests fail and are retried by the client.
      console.log(`${new Date().toISOString()} chaos: FerretDB away for 5 s`);
      await mongoProxy.stop();
      await new Promise((r) => setTimeout(r, 5000));
      await mongoProxy.start();
      await waitForAcks(60);
      await ferry(['reconcile', world.mongoUri]);

      // Verify both stores equal while both are fed (the offering paused for the comparison).
      await pauseLoad();
      await ferry(['reconcile', world.mongoUri]);
      await ferry(['verify', world.mongoUri]);
      expect(await postgresLedgerMismatches()).toEqual([]);
      resumeLoad();
      for (const d of DOMAINS) await cutover(d, 'shadow_read');
      // Shadow reads need their number of reads: the load reads wallets and their users by _id.
      await waitForAcks(120);
      for (const d of DOMAINS) await waitForShadowReads(d, 120);
      for (const d of DOMAINS) await cutover(d, 'pg_read');

      startOutboxWorker();
      for (const d of DOMAINS) await ferry(['rollback', d, '--drill', '--yes', '--source', world.mongoUri]);
      await new Promise((r) => setTimeout(r, 3000));
      for (const d of DOMAINS) await cutover(d, 'pg_primary');
      await waitForAcks(60);

      // Chaos 2: PostgreSQL away for 5 s in pg_primary; then an outbox worker killed mid-work.
      console.log(`${new Date().toISOString()} chaos: PostgreSQL away for 5 s`);
      await pgProxy.stop();
      await new Promise((r) => setTimeout(r, 5000));
      await pgProxy.start();
      await waitForAcks(60);
      console.log(`${new Date().toISOString()} chaos: outbox worker killed`);
      workers[0]!.kill('SIGKILL');
      await waitForAcks(30);
      startOutboxWorker();

      // One rollback from pg_primary to pg_read, and forward again.
      await ferry([
        'rollback',
        'money',
        '--to',
        'pg_read',
        '--yes',
        '--reason',
        'walk-through',
        '--source',
        world.mongoUri,
      ]);
      await waitForAcks(40);
      await new Promise((r) => setTimeout(r, 3000));
      await cutover('money', 'pg_primary');
      for (const d of DOMAINS) await ferry(['rollback', d, '--drill', '--yes', '--source', world.mongoUri]);
      await waitForAcks(40);

      // Before MongoDB is retired: the outbox has fed it everything, balances hold there too,
      // and both stores verify equal.
      await pauseLoad();
      for (const w of workers) w.kill('SIGTERM');
      await ferry(['outbox', 'work', world.mongoUri, '--drain']);
      const wrongInMongo = await mongoLedgerMismatches();
      expect(wrongInMongo.length, JSON.stringify(wrongInMongo.slice(0, 5))).toBe(0);
      await ferry(['verify', world.mongoUri]);
      for (const d of DOMAINS) await cutover(d, 'pg_only');
      resumeLoad();
      await waitForAcks(60);

      // The end: stop the load; every acknowledged transfer is in PostgreSQL, balances hold.
      load!.child.kill('SIGTERM');
      expect(await load!.exited, load!.stderr()).toBe(0);
      load = undefined;
      const summary = JSON.parse(await readFile(path.join(world.dir, 'load-out/summary.json'), 'utf8'));
      log.push(`load: ${JSON.stringify(summary)}`);
      expect(summary.offeredPerS).toBeGreaterThanOrEqual(195);
      const keys = (await acked()).map((line) => JSON.parse(line).key as string);
      expect(keys.length).toBe(summary.acknowledged);
      const ids = keys.flatMap((k) => [
        objectIdToUuid(transferIds(k).debit),
        objectIdToUuid(transferIds(k).credit),
      ]);
      const { rows } = await world.pool.query(
        'select count(*)::int as n from ledger where id = any($1::uuid[])',
        [ids],
      );
      expect(rows[0].n).toBe(ids.length);
      expect(await postgresLedgerMismatches()).toEqual([]);
      const { rows: shadow } = await world.pool.query(
        'select coalesce(sum(matched), 0)::int as matched, coalesce(sum(mismatched), 0)::int as mismatched from ferry.shadow_reads',
      );
      expect(shadow[0].mismatched).toBe(0);
      expect(shadow[0].matched).toBeGreaterThan(100);
      const { rows: events } = await world.pool.query(
        `select domain, from_phase, to_phase, figures from ferry.domain_events
        where (from_phase = 'pg_read' and to_phase = 'pg_primary') or (from_phase = 'pg_primary' and to_phase = 'pg_read')
        order by id`,
      );
      log.push(`flips: ${JSON.stringify(events)}`);
      expect(events.length).toBeGreaterThanOrEqual(3);
      for (const e of events) expect(JSON.stringify(e.figures)).toMatch(/pause/i);
      console.log(log.join('\n'));
    }, 3_600_000);
  },
);
