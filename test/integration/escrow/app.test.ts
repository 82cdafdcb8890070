import { randomUUID } from 'node:crypto';
import { type Document, ObjectId } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transferIds } from '../../../examples/escrow/app/transfer-ids.js';
import { objectIdToUuid } from '../../../src/mapping/identity.js';
import { setPhase } from '../../../src/runtime/domains.js';
import {
  createEscrowWorld,
  type EscrowWorld,
  type ExampleProcess,
  postTransfer,
  servicesReady,
  startApp,
  walletPairs,
} from './support.js';

/**
 * The escrow example app alone, through HTTP, in separate processes: idempotent transfers,
 * half-done transfers finished by their retry, and "balance = the sum of the wallet's ledger"
 * under concurrent transfers from two instances, in phase `mongo`, in `dual_write` (where
 * PostgreSQL must end equal to MongoDB) and with PostgreSQL as the primary (the app's SQL).
 */
describe.skipIf(!servicesReady)('the escrow example app', () => {
  let world: EscrowWorld;
  const apps: { url: string; process: ExampleProcess }[] = [];
  let pairs: [string, string][];
  const db = () => world.mongo.db(new URL(world.mongoUri).pathname.slice(1));

  beforeAll(async () => {
    world = await createEscrowWorld('app', 40);
    const migrated = await world.ferry(['migrate', world.mongoUri, '--yes']);
    expect(migrated.code, migrated.stderr).toBe(0);
    apps.push(await startApp(world), await startApp(world));
    pairs = await walletPairs(world);
  }, 600_000);

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.process.stop()));
    await world?.close();
  });

  /** Every wallet: balance, entrySeq, and the sum, count and last balance of its entries, in MongoDB. */
  async function mongoLedgerMismatches(): Promise<unknown[]> {
    const wallets = await db().collection('wallets').find().toArray();
    const entries = await db().collection('ledger').find().toArray();
    const byWallet = new Map<string, Document[]>();
    for (const e of entries) {
      const key = String(e.wallet);
      byWallet.set(key, [...(byWallet.get(key) ?? []), e]);
    }
    return wallets.flatMap((w) => {
      const own = (byWallet.get(String(w._id)) ?? []).sort((a, b) => a.seq - b.seq);
      const sum = own.reduce((s, e) => s + Number(e.amountMinor), 0);
      const ok = sum === w.balanceMinor && own.length === w.entrySeq && own.every((e, i) => e.seq === i + 1);
      return ok
        ? []
        : [
            {
              wallet: String(w._id),
              balance: w.balanceMinor,
              sum,
              entrySeq: w.entrySeq,
              entries: own.length,
            },
          ];
    });
  }

  /** The same check in PostgreSQL. */
  async function postgresLedgerMismatches(): Promise<unknown[]> {
    const { rows } = await world.pool.query(
      `select w.id, w.balance_minor, w.entry_seq, coalesce(sum(l.amount_minor), 0)::int as sum,
              count(l.id)::int as n, coalesce(max(l.seq), 0) as max_seq
         from wallets w left join ledger l on l.wallet = w.id group by w.id
       having w.balance_minor <> coalesce(sum(l.amount_minor), 0) or w.entry_seq <> count(l.id)
           or coalesce(max(l.seq), 0) <> count(l.id)`,
    );
    return rows;
  }

  /**
   * `check` until it finds nothing: the mirror may finish a copy after the request was answered
   * (it never holds a request up for long), so PostgreSQL catches up a moment later.
   */
  async function settled(check: () => Promise<unknown[]>, timeoutMs = 60_000): Promise<unknown[]> {
    const deadline = Date.now() + timeoutMs;
    let found = await check();
    while (found.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      found = await check();
    }
    return found;
  }

  async function followPhase(
    domain: 'money' | 'users',
    phase: Parameters<typeof setPhase>[2],
  ): Promise<void> {
    await setPhase(world.pool, domain, phase, { reason: 'escrow app test' });
    for (const app of apps) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const health = (await (await fetch(`${app.url}/health`)).json()) as {
          phases: Record<string, string>;
        };
        if (health.phases[domain] === phase) break;
        if (Date.now() > deadline) throw new Error(`${app.url} did not follow ${domain} to ${phase}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** `count` transfers spread over the instances and `wallets` pairs, each key sent twice at once. */
  async function concurrentTransfers(count: number, pairSlice: [string, string][]): Promise<string[]> {
    const keys: string[] = [];
    await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const [from, to] = pairSlice[i % pairSlice.length]!;
        const key = `c-${randomUUID()}`;
        const body = { from, to, amountMinor: 1 + (i % 7) };
        const [a, b] = await Promise.all([
          postTransfer(apps[i % apps.length]!.url, key, body),
          postTransfer(apps[(i + 1) % apps.length]!.url, key, body),
        ]);
        expect([a.status, b.status].sort(), JSON.stringify([a.body, b.body])).toSatisfy((s: number[]) =>
          s.every((x) => x === 200 || x === 201),
        );
        expect(b.body).toEqual(a.body);
        keys.push(key);
      }),
    );
    return keys;
  }

  it('books a transfer once per idempotency key and answers every retry with the first answer', async () => {
    const [from, to] = pairs[0]!;
    const key = `k-${randomUUID()}`;
    const first = await postTransfer(apps[0]!.url, key, { from, to, amountMinor: 250 });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({ key, from, to, amountMinor: 250 });
    const again = await postTransfer(apps[1]!.url, key, { from, to, amountMinor: 250 });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const reused = await postTransfer(apps[1]!.url, key, { from, to, amountMinor: 999 });
    expect(reused.status).toBe(409);
    expect(reused.body.error).toBe('IDEMPOTENCY_KEY_REUSED');
    const ids = transferIds(key);
    expect(
      await db()
        .collection('ledger')
        .countDocuments({ _id: { $in: [ids.debit, ids.credit] } }),
    ).toBe(2);
    const poor = await postTransfer(apps[0]!.url, `k-${randomUUID()}`, { from, to, amountMinor: 1e12 });
    expect(poor.status).toBe(422);
    expect(await mongoLedgerMismatches()).toEqual([]);
  }, 120_000);

  it('a retry completes a transfer whose request died after booking its debit, and other bookings finish it first', async () => {
    const [from, to] = pairs[1]!;
    const key = `half-${randomUUID()}`;
    const ids = transferIds(key);
    // What a request killed between "insert the entry" and "move the wallet" leaves behind.
    const wallet = (await db()
      .collection('wallets')
      .findOne({ _id: ObjectId.createFromHexString(from) }))!;
    await db()
      .collection('ledger')
      .insertOne({
        _id: ids.debit,
        wallet: wallet._id,
        entryType: 'transfer',
        amountMinor: -300,
        currency: wallet.currency,
        balanceAfterMinor: wallet.balanceMinor - 300,
        seq: wallet.entrySeq + 1,
        subject: ObjectId.createFromHexString(to),
        subjectModel: 'Wallet',
        idempotencyKey: `${key}:debit`,
        createdAt: new Date(),
        __v: 0,
      });
    expect(await mongoLedgerMismatches()).not.toEqual([]);
    // Another transfer from the same wallet must not book past the half-done entry.
    const other = await postTransfer(apps[0]!.url, `k-${randomUUID()}`, { from, to, amountMinor: 10 });
    expect(other.status).toBe(201);
    expect((other.body.debit as { seq: number }).seq).toBe(wallet.entrySeq + 2);
    // 201: this request finished the booking (the first one never got an answer).
    const retried = await postTransfer(apps[1]!.url, key, { from, to, amountMinor: 300 });
    expect(retried.status, JSON.stringify(retried.body)).toBe(201);
    expect(retried.body).toMatchObject({
      key,
      from,
      to,
      amountMinor: 300,
      debit: { seq: wallet.entrySeq + 1 },
    });
    expect(await mongoLedgerMismatches()).toEqual([]);
  }, 120_000);

  it('keeps every balance equal to its ledger under concurrent transfers from two instances', async () => {
    // Few wallets, many transfers: the bookings race for the same places in each ledger.
    const keys = await concurrentTransfers(120, pairs.slice(0, 4));
    expect(new Set(keys).size).toBe(120);
    expect(
      await db()
        .collection('ledger')
        .countDocuments({ idempotencyKey: { $regex: /^c-/ } }),
    ).toBe(240);
    expect(await mongoLedgerMismatches()).toEqual([]);
  }, 300_000);

  it('in dual_write mirrors every booking and rename to PostgreSQL, which then verifies equal to MongoDB', async () => {
    await followPhase('money', 'dual_write');
    await followPhase('users', 'dual_write');
    // What the app booked in phase `mongo`, after the backfill, reaches PostgreSQL by sync.
    const synced = await world.ferry(['sync', world.mongoUri]);
    expect(synced.code, synced.stderr).toBe(0);
    await concurrentTransfers(60, pairs.filter((_, i) => i % 7 === 0).slice(0, 30));
    const users = await db().collection('users').find().limit(3).toArray();
    for (const [i, user] of users.entries()) {
      const response = await fetch(`${apps[i % 2]!.url}/users/${String(user._id)}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: `Renamed ${i}` }),
      });
      expect(response.status).toBe(200);
    }
    expect(await mongoLedgerMismatches()).toEqual([]);
    // A mirrored write that could not be copied is a gap, and reconcile closes it (there should
    // be none on a quiet machine; under load a connect timeout makes one).
    const reconciled = await world.ferry(['reconcile', world.mongoUri]);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    expect(await settled(postgresLedgerMismatches)).toEqual([]);
    const verified = await world.ferry(['verify', world.mongoUri, '--json']);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  }, 300_000);

  it('with PostgreSQL the primary, books with the app’s SQL in one transaction, reads by _id from PostgreSQL, and the outbox brings MongoDB level', async () => {
    expect(await postgresLedgerMismatches()).toEqual([]);
    await followPhase('money', 'pg_read');
    await followPhase('money', 'pg_primary');
    const [from, to] = pairs[2]!;
    const key = `pg-${randomUUID()}`;
    const first = await postTransfer(apps[0]!.url, key, { from, to, amountMinor: 123 });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const again = await postTransfer(apps[1]!.url, key, { from, to, amountMinor: 123 });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const { rows } = await world.pool.query(
      'select count(*)::int as n from ledger where id = any($1::uuid[])',
      [[objectIdToUuid(transferIds(key).debit), objectIdToUuid(transferIds(key).credit)]],
    );
    expect(rows[0].n).toBe(2);
    // MongoDB has not seen it yet (no outbox worker runs); the app reads the wallet from PostgreSQL.
    const wallet = (await (await fetch(`${apps[1]!.url}/wallets/${to}`)).json()) as { balanceMinor: number };
    expect(wallet.balanceMinor).toBe((first.body.credit as { balanceAfterMinor: number }).balanceAfterMinor);
    await concurrentTransfers(40, pairs.filter((_, i) => i % 5 === 0).slice(0, 20));
    expect(await postgresLedgerMismatches()).toEqual([]);
    const drained = await world.ferry(['outbox', 'work', world.mongoUri, '--drain']);
    expect(drained.code, drained.stderr).toBe(0);
    expect(await mongoLedgerMismatches()).toEqual([]);
    const verified = await world.ferry(['verify', world.mongoUri, '--json']);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  }, 300_000);
});
