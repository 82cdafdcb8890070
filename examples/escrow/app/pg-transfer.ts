import type { ObjectId } from 'bson';
import type pg from 'pg';
import { objectIdToUuid, uuidToObjectId } from '../../../src/index.js';
import { badRequest, insufficientFunds, keyReused, notFound } from './errors.js';
import { entryKey, transferIds } from './transfer-ids.js';
import {
  entryMatches,
  type StoredEntry,
  type TransferOutcome,
  type TransferRequest,
  transferResult,
} from './transfer-types.js';

/**
 * A transfer while PostgreSQL is the primary (phases `pg_primary`, `pg_only`): the app's own
 * SQL on the mapped tables (examples/escrow/ferry.config.ts), in one transaction. Ferry's
 * capture triggers put every changed entity into `ferry.outbox` in that same transaction, and
 * the outbox worker feeds MongoDB from there in `pg_primary`.
 *
 * The same rules as in MongoDB (mongo-transfer.ts), made simple by the transaction: both
 * wallets are locked (in id order, so two transfers between the same wallets never deadlock),
 * an entry booked in MongoDB whose wallet update was lost before the primary moved is finished
 * first, and whichever of the two entries the key names is missing is booked.
 *
 * @param client a connection inside a transaction the caller commits.
 */
export async function transferInPostgres(
  client: pg.ClientBase,
  schema: string,
  request: TransferRequest,
): Promise<TransferOutcome> {
  const t = (table: string) => `"${schema}"."${table}"`;
  let booked = false;
  const ids = transferIds(request.key);
  const from = objectIdToUuid(request.from);
  const to = objectIdToUuid(request.to);
  const { rows: wallets } = await client.query<{
    id: string;
    currency: string;
    balance: number;
    seq: number;
  }>(
    `select id::text, currency, balance_minor as balance, entry_seq as seq
       from ${t('wallets')} where id = any($1::uuid[]) order by id for update`,
    [[from, to]],
  );
  const state = new Map(wallets.map((w) => [w.id, w]));
  for (const [id, hex] of [
    [from, request.from],
    [to, request.to],
  ] as const)
    if (!state.has(id)) throw notFound('wallet', hex.toHexString());
  if (state.get(from)!.currency !== state.get(to)!.currency)
    throw badRequest('the two wallets hold different currencies');

  for (const wallet of wallets) {
    const { rows } = await client.query<{ seq: number; balance: number }>(
      `select seq, balance_after_minor as balance from ${t('ledger')}
        where wallet = $1 and seq > $2 order by seq desc limit 1`,
      [wallet.id, wallet.seq],
    );
    if (rows[0] !== undefined) await moveWallet(client, t('wallets'), wallet, rows[0].seq, rows[0].balance);
  }

  const { rows: found } = await client.query<{
    id: string;
    wallet: string;
    seq: number;
    amount: number;
    balance: number;
    currency: string;
    subject: string | null;
  }>(
    `select id::text, wallet::text, seq, amount_minor as amount, balance_after_minor as balance, currency,
            subject_id::text as subject
       from ${t('ledger')} where id = any($1::uuid[])`,
    [[objectIdToUuid(ids.debit), objectIdToUuid(ids.credit)]],
  );
  const stored = new Map<string, StoredEntry>(
    found.map((r) => [
      r.id,
      {
        id: uuidToObjectId(r.id).toHexString(),
        wallet: uuidToObjectId(r.wallet).toHexString(),
        seq: r.seq,
        amountMinor: r.amount,
        balanceAfterMinor: r.balance,
        currency: r.currency,
        subject: r.subject === null ? undefined : uuidToObjectId(r.subject).toHexString(),
      },
    ]),
  );

  const book = async (
    id: ObjectId,
    side: 'debit' | 'credit',
    wallet: ObjectId,
    counterpart: ObjectId,
    amount: number,
  ) => {
    const existing = stored.get(objectIdToUuid(id));
    if (existing !== undefined) {
      if (!entryMatches(existing, wallet, counterpart, amount)) throw keyReused(request.key);
      return existing;
    }
    const current = state.get(objectIdToUuid(wallet))!;
    const balance = current.balance + amount;
    if (side === 'debit' && balance < 0) throw insufficientFunds(wallet.toHexString());
    const seq = current.seq + 1;
    booked = true;
    await client.query(
      `insert into ${t('ledger')}
         (id, v, amount_minor, balance_after_minor, created_at, currency, entry_type, idempotency_key,
          seq, wallet, subject_kind, subject_id)
       values ($1, 0, $2, $3, date_trunc('milliseconds', now()), $4, 'transfer', $5, $6, $7, 'Wallet', $8)`,
      [
        objectIdToUuid(id),
        amount,
        balance,
        current.currency,
        entryKey(request.key, side),
        seq,
        current.id,
        objectIdToUuid(counterpart),
      ],
    );
    await moveWallet(client, t('wallets'), current, seq, balance);
    return {
      id: id.toHexString(),
      wallet: wallet.toHexString(),
      seq,
      amountMinor: amount,
      balanceAfterMinor: balance,
      currency: current.currency,
      subject: counterpart.toHexString(),
    } satisfies StoredEntry;
  };
  const debit = await book(ids.debit, 'debit', request.from, request.to, -request.amountMinor);
  const credit = await book(ids.credit, 'credit', request.to, request.from, request.amountMinor);
  return { result: transferResult(request.key, debit, credit), booked };
}

async function moveWallet(
  client: pg.ClientBase,
  table: string,
  wallet: { id: string; balance: number; seq: number },
  seq: number,
  balance: number,
): Promise<void> {
  await client.query(
    `update ${table} set balance_minor = $2, entry_seq = $3, updated_at = date_trunc('milliseconds', now())
      where id = $1`,
    [wallet.id, balance, seq],
  );
  wallet.balance = balance;
  wallet.seq = seq;
}

/** A user renamed, in PostgreSQL (the `users` domain in `pg_primary` or `pg_only`). */
export async function renameUserInPostgres(
  client: pg.ClientBase,
  schema: string,
  id: ObjectId,
  name: string,
): Promise<boolean> {
  const { rowCount } = await client.query(
    `update "${schema}"."users" set name = $2, updated_at = date_trunc('milliseconds', now()) where id = $1`,
    [objectIdToUuid(id), name],
  );
  return (rowCount ?? 0) > 0;
}
