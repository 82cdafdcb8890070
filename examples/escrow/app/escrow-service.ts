import type { Document, ObjectId } from 'bson';
import type { Model } from 'mongoose';
import type { Phase, Runtime } from '../../../src/index.js';
import { notFound } from './errors.js';
import { type MoneyModels, transferInMongo } from './mongo-transfer.js';
import { renameUserInPostgres, transferInPostgres } from './pg-transfer.js';
import { transferIds } from './transfer-ids.js';
import type { TransferOutcome, TransferRequest, TransferResult } from './transfer-types.js';

/** The models the service uses (examples/escrow/models, compiled after Ferry's plugin). */
export interface EscrowModels extends MoneyModels {
  readonly User: Model<Document>;
}

/**
 * What the routes call: each write runs on its domain's primary. MongoDB is the primary up to
 * `pg_read` (its writes go through the models, which Ferry's plugin mirrors to PostgreSQL);
 * from `pg_primary` on, the app writes PostgreSQL with its own SQL and Ferry's outbox feeds
 * MongoDB. Reads by `_id` follow the phase too.
 */
export class EscrowService {
  constructor(
    private readonly runtime: Runtime,
    private readonly models: EscrowModels,
  ) {}

  /**
   * Book a transfer, or return the one its key booked before (completing it if half done), on
   * the `money` domain's primary. `withPrimary` runs exactly one branch, coherently with a
   * primary flip: a flip waits for the transfers under way, and a transfer that waited for a
   * flip runs on the new primary.
   */
  async transfer(request: TransferRequest): Promise<TransferOutcome> {
    return this.runtime.withPrimary('money', {
      mongo: () => transferInMongo(this.models, request),
      pg: (client) => transferInPostgres(client, this.runtime.stores.schema, request),
    });
  }

  /** A transfer booked before under `key`, as its first answer said; undefined if none. */
  async findTransfer(key: string): Promise<TransferResult | undefined> {
    const ids = transferIds(key);
    const [debit, credit] = await Promise.all([
      this.#readById(this.models.LedgerEntry, ids.debit),
      this.#readById(this.models.LedgerEntry, ids.credit),
    ]);
    if (debit === undefined || credit === undefined) return undefined;
    const hex = (v: unknown) => (v as ObjectId).toHexString();
    const entry = (d: Document) => ({
      id: hex(d._id),
      wallet: hex(d.wallet),
      seq: Number(d.seq),
      amountMinor: Number(d.amountMinor),
      balanceAfterMinor: Number(d.balanceAfterMinor),
    });
    return {
      key,
      from: hex(debit.wallet),
      to: hex(credit.wallet),
      amountMinor: Number(credit.amountMinor),
      currency: String(debit.currency),
      debit: entry(debit),
      credit: entry(credit),
    };
  }

  async wallet(id: ObjectId): Promise<Document> {
    const found = await this.#readById(this.models.Wallet, id);
    if (found === undefined) throw notFound('wallet', id.toHexString());
    return found;
  }

  async user(id: ObjectId): Promise<Document> {
    const found = await this.#readById(this.models.User, id);
    if (found === undefined) throw notFound('user', id.toHexString());
    return found;
  }

  async renameUser(id: ObjectId, name: string): Promise<void> {
    const renamed = await this.runtime.withPrimary('users', {
      mongo: async () => (await this.models.User.updateOne({ _id: id }, { $set: { name } })).matchedCount > 0,
      pg: (client) => renameUserInPostgres(client, this.runtime.stores.schema, id, name),
    });
    if (!renamed) throw notFound('user', id.toHexString());
  }

  /** Phases of the app's domains, for its health endpoint. */
  phases(): Record<string, Phase> {
    return { users: this.runtime.phase('users'), money: this.runtime.phase('wallets') };
  }

  /**
   * A read by `_id` through the model: Ferry's plugin routes it by the domain's phase (MongoDB;
   * MongoDB shadowed against PostgreSQL in `shadow_read`; PostgreSQL from `pg_read` on).
   */
  async #readById(model: Model<Document>, id: ObjectId): Promise<Document | undefined> {
    return ((await model.findById(id).lean()) as Document | null) ?? undefined;
  }
}
