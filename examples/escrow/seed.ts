/**
 * Seed the escrow app's MongoDB with the seeded generator's users, wallets, purchase requests
 * and ledger, and create the indexes its models declare (the ledger's unique `(wallet, seq)`
 * and `idempotencyKey` are what make transfers safe without transactions).
 *
 *   npx tsx examples/escrow/seed.ts mongodb://127.0.0.1:27017/escrow [--users 200] [--seed 7]
 *
 * Notifications are left out: their TTL index would have MongoDB expire them on its own clock
 * while PostgreSQL keeps them until `ferry ttl run`, and the app does not use them.
 */
import { parseArgs } from 'node:util';
import mongoose from 'mongoose';
import { generateEscrow } from '../../src/generate/index.js';

const SEEDED = ['users', 'wallets', 'purchaseRequests', 'ledger'] as const;

/**
 * Write the seeded documents into the database of `url` (which must be empty) and build the
 * models' indexes. Returns how many documents each collection got.
 */
export async function seedEscrow(
  url: string,
  options: { users?: number; seed?: number } = {},
): Promise<Record<(typeof SEEDED)[number], number>> {
  const connection = await mongoose.createConnection(url, { serverSelectionTimeoutMS: 10_000 }).asPromise();
  try {
    const { LedgerEntry, PurchaseRequest, User, Wallet } = await import('./models/index.js');
    const data = generateEscrow(options.seed ?? 7, { users: options.users ?? 200 });
    const counts = {} as Record<(typeof SEEDED)[number], number>;
    for (const name of SEEDED) {
      const existing = await connection.collection(name).estimatedDocumentCount();
      if (existing > 0) throw new Error(`collection ${name} already has documents; seed an empty database`);
      await connection.collection(name).insertMany([...data[name]] as never[]);
      counts[name] = data[name].length;
    }
    // The models are registered on the default mongoose; their indexes are built on this
    // connection's database by compiling each schema there.
    for (const model of [User, Wallet, PurchaseRequest, LedgerEntry])
      await connection.model(model.modelName, model.schema).createIndexes();
    return counts;
  } finally {
    await connection.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { users: { type: 'string' }, seed: { type: 'string' } },
  });
  const url = positionals[0] ?? process.env.ESCROW_MONGO_URL;
  if (url === undefined) {
    console.error('usage: tsx examples/escrow/seed.ts <mongodb://host/db> [--users N] [--seed N]');
    process.exit(2);
  }
  const counts = await seedEscrow(url, {
    ...(values.users !== undefined && { users: Number(values.users) }),
    ...(values.seed !== undefined && { seed: Number(values.seed) }),
  });
  console.log(JSON.stringify(counts));
}
