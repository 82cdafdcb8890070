/**
 * The escrow load generator: a separate process that offers transfers at a fixed rate (open
 * loop: a new transfer every 1/rate s, whether or not earlier ones were answered), spread
 * round-robin over several app instances, and retries each one with its idempotency key until
 * an instance acknowledges it, moving on to the next instance after a failure (a store stopped,
 * an instance restarting). It writes what it saw, for a test or a person to check:
 *
 * - `<out>/acks.jsonl`: one line per acknowledged transfer (key, wallets, amount, the answer's
 *   entries, attempts, latency from first try to acknowledgement);
 * - `<out>/requests.jsonl`: one line per HTTP attempt (key, instance, status, latency);
 * - `<out>/summary.json` at the end: offered, sent, acknowledged, rejected, shed (offered while
 *   `--max-in-flight` transfers were still open, so never sent), rates and latency quantiles.
 *
 *   npx tsx examples/escrow/load.ts --targets http://127.0.0.1:3001,http://127.0.0.1:3002 \
 *     --wallets wallets.json --rate 200 --out load-out [--duration 60]
 *
 * `--read-rate N` also reads N wallets (and their users) a second by `_id`, the reads Ferry
 * shadows and later serves from PostgreSQL. SIGUSR1 pauses the offering (open transfers go on
 * until acknowledged), SIGUSR2 resumes it: a test pauses to compare the stores at rest, and
 * `<out>/state.json` (`{ paused, open, acknowledged }`, written every 0.5 s) says when no
 * transfer is open any more.
 *
 * `wallets.json` is `[{ "id": "<24 hex>", "currency": "EUR" }, …]`; or `--mongo mongodb://…/db`
 * reads the app's wallets from its database once at the start. Transfers go between two
 * wallets of one currency, 1 to `--max-amount` minor units. SIGTERM or SIGINT (or the end of
 * `--duration`) stops offering; open transfers are still retried for `--drain` seconds. Exit
 * 0 when every sent transfer ended acknowledged or refused (422), else 1.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';

interface Wallet {
  readonly id: string;
  readonly currency: string;
  /** The owner, when known: reads alternate between wallets and their users. */
  readonly user?: string;
}

interface Options {
  readonly targets: readonly string[];
  readonly wallets: readonly Wallet[];
  readonly mongo: string | undefined;
  readonly rate: number;
  readonly out: string;
  readonly durationS: number | undefined;
  readonly maxInFlight: number;
  readonly maxAmount: number;
  readonly drainS: number;
  readonly readRate: number;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      targets: { type: 'string' },
      wallets: { type: 'string' },
      mongo: { type: 'string' },
      rate: { type: 'string', default: '200' },
      out: { type: 'string', default: 'load-out' },
      duration: { type: 'string' },
      'max-in-flight': { type: 'string', default: '2000' },
      'max-amount': { type: 'string', default: '50' },
      drain: { type: 'string', default: '180' },
      'read-rate': { type: 'string', default: '0' },
    },
  });
  if (values.targets === undefined || (values.wallets === undefined && values.mongo === undefined)) {
    console.error(
      'usage: load.ts --targets url,url,… (--wallets wallets.json | --mongo mongodb://…/db) [--rate 200] [--read-rate 0] [--out dir] [--duration s]',
    );
    process.exit(2);
  }
  return {
    targets: values.targets.split(',').filter(Boolean),
    wallets:
      values.wallets === undefined ? [] : (JSON.parse(readFileSync(values.wallets, 'utf8')) as Wallet[]),
    mongo: values.mongo,
    rate: Number(values.rate),
    out: values.out,
    durationS: values.duration === undefined ? undefined : Number(values.duration),
    maxInFlight: Number(values['max-in-flight']),
    maxAmount: Number(values['max-amount']),
    drainS: Number(values.drain),
    readRate: Number(values['read-rate']),
  };
}

/** Wallets grouped by currency, only currencies with two or more. */
function byCurrency(wallets: readonly Wallet[]): Wallet[][] {
  const groups = new Map<string, Wallet[]>();
  for (const w of wallets) groups.set(w.currency, [...(groups.get(w.currency) ?? []), w]);
  return [...groups.values()].filter((g) => g.length >= 2);
}

/** The app's wallets, read from its MongoDB database. */
async function walletsIn(url: string): Promise<Wallet[]> {
  const client = await MongoClient.connect(url, { serverSelectionTimeoutMS: 10_000 });
  try {
    const found = await client
      .db()
      .collection('wallets')
      .find({}, { projection: { currency: 1, user: 1 } })
      .toArray();
    return found.map((w) => ({
      id: String(w._id),
      currency: String(w.currency),
      ...(w.user !== undefined && w.user !== null && { user: String(w.user) }),
    }));
  } finally {
    await client.close();
  }
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function main(): Promise<void> {
  const o = options();
  await mkdir(o.out, { recursive: true });
  const acks = createWriteStream(path.join(o.out, 'acks.jsonl'), { flags: 'a' });
  const requests = createWriteStream(path.join(o.out, 'requests.jsonl'), { flags: 'a' });
  const groups = byCurrency(o.mongo === undefined ? o.wallets : await walletsIn(o.mongo));
  if (groups.length === 0) throw new Error('no two wallets share a currency');

  const counts = {
    offered: 0,
    sent: 0,
    acknowledged: 0,
    rejected: 0,
    failed: 0,
    shed: 0,
    attempts: 0,
    retried: 0,
  };
  const statuses: Record<string, number> = {};
  const ackLatencies: number[] = [];
  const attemptLatencies: number[] = [];
  const open = new Map<string, Promise<void>>();
  let stopping = false;
  let draining = false;
  let drainDeadline = Number.POSITIVE_INFINITY;
  let next = 0;

  const transfer = async (key: string, from: Wallet, to: Wallet, amountMinor: number) => {
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      const target = o.targets[next++ % o.targets.length]!;
      const t0 = performance.now();
      let status = 0;
      let body: Record<string, unknown> | undefined;
      try {
        const response = await fetch(`${target}/transfers`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': key },
          body: JSON.stringify({ from: from.id, to: to.id, amountMinor }),
          signal: AbortSignal.timeout(15_000),
        });
        status = response.status;
        body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
      } catch {
        status = 0; // no answer: connection refused or reset, or timed out
      }
      const ms = performance.now() - t0;
      counts.attempts++;
      statuses[status] = (statuses[status] ?? 0) + 1;
      attemptLatencies.push(ms);
      requests.write(
        `${JSON.stringify({ key, target, status, ms: Math.round(ms * 10) / 10, at: Date.now() })}\n`,
      );
      if (status === 200 || status === 201) {
        const latencyMs = performance.now() - started;
        counts.acknowledged++;
        ackLatencies.push(latencyMs);
        acks.write(
          `${JSON.stringify({ key, from: from.id, to: to.id, amountMinor, status, attempts: attempt, latencyMs: Math.round(latencyMs), debit: body?.debit, credit: body?.credit })}\n`,
        );
        return;
      }
      if (status === 422) {
        counts.rejected++;
        return;
      }
      if (status >= 400 && status < 500) {
        // The request itself is wrong (400, 404, 409): retrying it cannot help.
        counts.failed++;
        process.stderr.write(`transfer ${key}: HTTP ${status} ${body?.error ?? ''}\n`);
        return;
      }
      if (draining && performance.now() > drainDeadline) return;
      counts.retried++;
      await sleep(Math.min(1000, 25 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random()));
    }
  };

  const stop = () => {
    stopping = true;
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  let paused = false;
  let pausedMs = 0;
  let pausedAt = 0;
  process.on('SIGUSR1', () => {
    if (!paused) pausedAt = performance.now();
    paused = true;
  });
  process.on('SIGUSR2', () => {
    if (paused) pausedMs += performance.now() - pausedAt;
    paused = false;
  });
  const reads = { sent: 0, ok: 0, failed: 0 };
  const read = async (wallet: Wallet) => {
    reads.sent++;
    try {
      const resource =
        wallet.user !== undefined && reads.sent % 2 === 0 ? `users/${wallet.user}` : `wallets/${wallet.id}`;
      const response = await fetch(`${o.targets[next++ % o.targets.length]}/${resource}`, {
        signal: AbortSignal.timeout(15_000),
      });
      await response.arrayBuffer();
      if (response.ok) reads.ok++;
      else reads.failed++;
    } catch {
      reads.failed++;
    }
  };

  const startedAt = performance.now();
  console.log(JSON.stringify({ started: true, rate: o.rate, targets: o.targets.length, out: o.out }));
  const progress = setInterval(
    () => console.log(JSON.stringify({ progress: { ...counts, open: open.size, paused } })),
    5000,
  );
  // For whoever paused it: `paused` with `open` 0 means no transfer of this generator is under
  // way, so the stores are at rest (as far as it is concerned) and can be compared.
  const state = setInterval(
    () =>
      void writeFile(
        path.join(o.out, 'state.json'),
        JSON.stringify({ paused, open: open.size, acknowledged: counts.acknowledged }),
      ).catch(() => {}),
    500,
  );

  // Open loop: the schedule is the clock, not the answers. Each tick offers as many transfers
  // as the rate says are due by now, so a slow tick does not lower the offered rate.
  let readsOffered = 0;
  while (!stopping) {
    if (o.durationS !== undefined && performance.now() - startedAt >= o.durationS * 1000) break;
    if (paused) {
      await sleep(5);
      continue;
    }
    const activeS = (performance.now() - startedAt - pausedMs) / 1000;
    for (; readsOffered < Math.floor(activeS * o.readRate); readsOffered++) void read(pick(pick(groups)));
    const due = Math.floor(activeS * o.rate);
    while (counts.offered < due) {
      counts.offered++;
      if (open.size >= o.maxInFlight) {
        counts.shed++;
        continue;
      }
      const group = pick(groups);
      const from = pick(group);
      let to = pick(group);
      while (to === from) to = pick(group);
      const key = `load-${randomUUID()}`;
      counts.sent++;
      const running = transfer(key, from, to, 1 + Math.floor(Math.random() * o.maxAmount)).finally(() =>
        open.delete(key),
      );
      open.set(key, running);
    }
    await sleep(5);
  }
  const offeredForS = (performance.now() - startedAt - pausedMs) / 1000;
  draining = true;
  drainDeadline = performance.now() + o.drainS * 1000;
  await Promise.race([Promise.all(open.values()), sleep(o.drainS * 1000 + 20_000)]);
  clearInterval(progress);
  clearInterval(state);
  const unresolved = [...open.keys()];
  ackLatencies.sort((a, b) => a - b);
  attemptLatencies.sort((a, b) => a - b);
  const summary = {
    ...counts,
    unresolved,
    reads,
    statuses,
    offeredForS: Math.round(offeredForS * 10) / 10,
    offeredPerS: Math.round((counts.offered / offeredForS) * 10) / 10,
    acknowledgedPerS: Math.round((counts.acknowledged / ((performance.now() - startedAt) / 1000)) * 10) / 10,
    ackLatencyMs: {
      p50: quantile(ackLatencies, 0.5),
      p95: quantile(ackLatencies, 0.95),
      p99: quantile(ackLatencies, 0.99),
      max: ackLatencies.at(-1) ?? 0,
    },
    attemptLatencyMs: {
      p50: quantile(attemptLatencies, 0.5),
      p95: quantile(attemptLatencies, 0.95),
      p99: quantile(attemptLatencies, 0.99),
    },
  };
  await new Promise((resolve) => acks.end(resolve));
  await new Promise((resolve) => requests.end(resolve));
  await writeFile(path.join(o.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(JSON.stringify({ summary }));
  process.exit(unresolved.length === 0 && counts.failed === 0 ? 0 : 1);
}

await main();
