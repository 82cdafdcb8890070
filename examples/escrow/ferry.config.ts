// The escrow app's Ferry config: the mapping `ferry infer --models examples/escrow/models`
// proposed from the seeded data (examples/escrow/seed.ts), reviewed and kept. The app's own
// SQL (examples/escrow/app/sql-*.ts) is written against these tables, so the mapping is part of
// the app, not regenerated on each run. The per-column comments are what inference saw.
import { defineConfig } from 'ferry';

export default defineConfig({
  // The app's MongoDB (FerretDB in the walk-through); `ferry migrate`, `sync` and the outbox
  // worker take it as their source argument too.
  ...(process.env.ESCROW_MONGO_URL !== undefined && { source: process.env.ESCROW_MONGO_URL }),
  // Two domains cut over separately: who the users are, and where the money is.
  domains: {
    users: { collections: ['users'] },
    money: { collections: ['wallets', 'ledger', 'purchaseRequests'] },
  },
  mapping: {
    version: 1,
    collections: [
      {
        // 210 document(s); 1 table(s)
        // WARNING APPEND_ONLY: proposed as append-only (name "ledger"; createdAt in 210/210 document(s); no update date; __v always 0): PostgreSQL will refuse UPDATE and DELETE on its tables; remove `appendOnly` if the application edits or deletes these documents
        name: 'ledger',
        tables: [
          {
            // root table: one row per document
            name: 'ledger',
            columns: [
              // _id: 210/210 present; objectId (reversible uuid). ObjectId _id: the reversible, time-ordered
              // uuid, primary key
              { name: 'id', path: ['_id'], pgType: 'uuid', sourceType: 'objectId', nullable: false },
              // __v: 210/210 present; int 0…0. int → integer
              { name: 'v', path: ['__v'], pgType: 'integer', sourceType: 'int', nullable: false },
              // amountMinor: 210/210 present; int -73100…49500. int → integer
              {
                name: 'amount_minor',
                path: ['amountMinor'],
                pgType: 'integer',
                sourceType: 'int',
                nullable: false,
              },
              // balanceAfterMinor: 210/210 present; int -60700…51500. int → integer
              {
                name: 'balance_after_minor',
                path: ['balanceAfterMinor'],
                pgType: 'integer',
                sourceType: 'int',
                nullable: false,
              },
              // createdAt: 210/210 present; date 2026-01-02…2026-01-02. date → timestamptz
              {
                name: 'created_at',
                path: ['createdAt'],
                pgType: 'timestamptz',
                sourceType: 'date',
                nullable: false,
              },
              // currency: 210/210 present; string, length 3…3. string → text
              {
                name: 'currency',
                path: ['currency'],
                pgType: 'text',
                sourceType: 'string',
                nullable: false,
                allowed: ['EUR', 'USD', 'GBP'],
              },
              // entryType: 210/210 present; string, length 7…11. string → text
              {
                name: 'entry_type',
                path: ['entryType'],
                pgType: 'text',
                sourceType: 'string',
                nullable: false,
                allowed: ['deposit', 'withdrawal', 'transfer', 'escrow_hold', 'escrow_release', 'fee'],
              },
              // idempotencyKey: 210/210 present; string, length 16…23. string → text
              {
                name: 'idempotency_key',
                path: ['idempotencyKey'],
                pgType: 'text',
                sourceType: 'string',
                nullable: false,
              },
              // seq: 210/210 present; int 1…10. int → integer
              { name: 'seq', path: ['seq'], pgType: 'integer', sourceType: 'int', nullable: false },
              // wallet: 210/210 present; objectId (reversible uuid). ids of objectId → wallets (100%): a
              // foreign key to wallets.id
              {
                name: 'wallet',
                path: ['wallet'],
                pgType: 'uuid',
                sourceType: 'objectId',
                nullable: false,
                references: { table: 'wallets', column: 'id' },
              },
              // reversalOf: not in the data. declared by the model only
              {
                name: 'reversal_of',
                path: ['reversalOf'],
                pgType: 'uuid',
                sourceType: 'objectId',
                nullable: true,
                references: { table: 'ledger', column: 'id' },
              },
              // fxRate: not in the data. declared by the model only
              { name: 'fx_rate', path: ['fxRate'], pgType: 'numeric', sourceType: 'decimal', nullable: true },
            ],
            discriminators: [
              // subject: subject: 141/210 present; objectId (reversible uuid); subjectModel: 141/210 present;
              // string, length 6…15. the model's refPath: subjectModel names the model of each id, so a
              // discriminator triple (subject_kind, subject_id, subject_ref) with a CHECK over
              // PurchaseRequest → purchase_requests, Wallet → wallets
              {
                path: ['subject'],
                kindPath: ['subjectModel'],
                columns: { kind: 'subject_kind', id: 'subject_id', ref: 'subject_ref' },
                kinds: [
                  { name: 'PurchaseRequest', idType: 'objectId', table: 'purchase_requests' },
                  { name: 'Wallet', idType: 'objectId', table: 'wallets' },
                ],
              },
            ],
          },
        ],
        // The source's indexes; `ferry plan` translates them (unique, partial, TTL, text).
        indexes: [
          { name: 'idempotencyKey_1', key: { idempotencyKey: 1 }, unique: true },
          { name: 'wallet_1', key: { wallet: 1 } },
          { name: 'wallet_1_createdAt_1', key: { wallet: 1, createdAt: 1 } },
          { name: 'wallet_1_seq_1', key: { wallet: 1, seq: 1 }, unique: true },
        ],
        // name "ledger"; createdAt in 210/210 document(s); no update date; __v always 0. documents look like ledger entries: written once, never updated, so UPDATE and DELETE are refused
        appendOnly: true,
      },
      {
        // 50 document(s); 3 table(s)
        name: 'purchaseRequests',
        tables: [
          {
            // root table: one row per document
            name: 'purchase_requests',
            columns: [
              // _id: 50/50 present; objectId (reversible uuid). ObjectId _id: the reversible, time-ordered
              // uuid, primary key
              { name: 'id', path: ['_id'], pgType: 'uuid', sourceType: 'objectId', nullable: false },
              // __v: 50/50 present; int 0…0. int → integer
              { name: 'v', path: ['__v'], pgType: 'integer', sourceType: 'int', nullable: false },
              // buyer: 50/50 present; objectId (reversible uuid). ids of objectId → users (100%): a foreign
              // key to users.id
              {
                name: 'buyer',
                path: ['buyer'],
                pgType: 'uuid',
                sourceType: 'objectId',
                nullable: false,
                references: { table: 'users', column: 'id' },
              },
              // createdAt: 50/50 present; date 2026-01-02…2026-01-02. date → timestamptz
              {
                name: 'created_at',
                path: ['createdAt'],
                pgType: 'timestamptz',
                sourceType: 'date',
                nullable: false,
              },
              // currency: 50/50 present; string, length 3…3. string → text
              {
                name: 'currency',
                path: ['currency'],
                pgType: 'text',
                sourceType: 'string',
                nullable: false,
                allowed: ['EUR', 'USD', 'GBP'],
              },
              // escrowWallet: 41/50 present; objectId (reversible uuid). ids of objectId → wallets (100%): a
              // foreign key to wallets.id
              {
                name: 'escrow_wallet',
                path: ['escrowWallet'],
                pgType: 'uuid',
                sourceType: 'objectId',
                nullable: true,
                references: { table: 'wallets', column: 'id' },
              },
              // seller: 50/50 present; objectId (reversible uuid). ids of objectId → users (100%): a foreign
              // key to users.id
              {
                name: 'seller',
                path: ['seller'],
                pgType: 'uuid',
                sourceType: 'objectId',
                nullable: false,
                references: { table: 'users', column: 'id' },
              },
              // status: 50/50 present; string, length 4…8. string → text
              {
                name: 'status',
                path: ['status'],
                pgType: 'text',
                sourceType: 'string',
                nullable: false,
                allowed: ['open', 'funded', 'shipped', 'released', 'disputed', 'cancelled'],
              },
              // tags: 50/50 present; length 0…1; elements string, length 4…7. an array of scalars of one
              // type: a PostgreSQL text[] keeps order and every value
              { name: 'tags', path: ['tags'], pgType: 'text[]', sourceType: 'string', nullable: false },
              // title: 50/50 present; string, length 19…25. string → text
              { name: 'title', path: ['title'], pgType: 'text', sourceType: 'string', nullable: false },
              // totalMinor: 50/50 present; int 1600…116400. int → integer
              {
                name: 'total_minor',
                path: ['totalMinor'],
                pgType: 'integer',
                sourceType: 'int',
                nullable: false,
              },
              // updatedAt: 50/50 present; date 2026-01-02…2026-01-05. date → timestamptz
              {
                name: 'updated_at',
                path: ['updatedAt'],
                pgType: 'timestamptz',
                sourceType: 'date',
                nullable: false,
              },
            ],
          },
          {
            // history: 50/50 present; length 1…4, 134 sub-documents. an array of sub-documents: child table
            // purchase_requests_history keyed by (parent_id, idx)
            name: 'purchase_requests_history',
            parent: {
              table: 'purchase_requests',
              path: ['history'],
              shape: 'array',
              columns: ['parent_id'],
              ordinal: 'idx',
            },
            columns: [
              // history.[].at: 134/134 present; date 2026-01-02…2026-01-05. date → timestamptz
              { name: 'at', path: ['at'], pgType: 'timestamptz', sourceType: 'date', nullable: false },
              // history.[].by: 84/134 present; objectId (reversible uuid). ids of objectId → users (100%): a
              // foreign key to users.id
              {
                name: 'by',
                path: ['by'],
                pgType: 'uuid',
                sourceType: 'objectId',
                nullable: true,
                references: { table: 'users', column: 'id' },
              },
              // history.[].status: 134/134 present; string, length 4…8. string → text
              {
                name: 'status',
                path: ['status'],
                pgType: 'text',
                sourceType: 'string',
                nullable: false,
                allowed: ['open', 'funded', 'shipped', 'released', 'disputed', 'cancelled'],
              },
            ],
          },
          {
            // items: 50/50 present; length 1…3, 93 sub-documents. an array of sub-documents: child table
            // purchase_requests_items keyed by (parent_id, idx)
            name: 'purchase_requests_items',
            parent: {
              table: 'purchase_requests',
              path: ['items'],
              shape: 'array',
              columns: ['parent_id'],
              ordinal: 'idx',
            },
            columns: [
              // items.[].quantity: 93/93 present; int 1…3. int → integer
              { name: 'quantity', path: ['quantity'], pgType: 'integer', sourceType: 'int', nullable: false },
              // items.[].sku: 93/93 present; string, length 10…10. string → text
              { name: 'sku', path: ['sku'], pgType: 'text', sourceType: 'string', nullable: false },
              // items.[].title: 93/93 present; string, length 8…15. string → text
              { name: 'title', path: ['title'], pgType: 'text', sourceType: 'string', nullable: false },
              // items.[].unitPriceMinor: 93/93 present; int 1000…15000. int → integer
              {
                name: 'unit_price_minor',
                path: ['unitPriceMinor'],
                pgType: 'integer',
                sourceType: 'int',
                nullable: false,
              },
            ],
          },
        ],
        // The source's indexes; `ferry plan` translates them (unique, partial, TTL, text).
        indexes: [
          { name: 'buyer_1_status_1', key: { buyer: 1, status: 1 } },
          { name: 'seller_1', key: { seller: 1 } },
        ],
      },
      {
        // 50 document(s); 1 table(s)
        name: 'users',
        tables: [
          {
            // root table: one row per document
            name: 'users',
            columns: [
              // _id: 50/50 present; objectId (reversible uuid). ObjectId _id: the reversible, time-ordered
              // uuid, primary key
              { name: 'id', path: ['_id'], pgType: 'uuid', sourceType: 'objectId', nullable: false },
              // __v: 50/50 present; int 0…0. int → integer
              { name: 'v', path: ['__v'], pgType: 'integer', sourceType: 'int', nullable: false },
              // address: 50/50 present; 2 stable keys. an object with stable keys: flattened into
              // parent_child columns
              // address.city: 50/50 present; string, length 5…6. string → text
              {
                name: 'address_city',
                path: ['address', 'city'],
                pgType: 'text',
                sourceType: 'string',
                nullable: false,
              },
              // address.country: 50/50 present; string, length 2…2. string → text
              {
                name: 'address_country',
                path: ['address', 'country'],
                pgType: 'text',
                sourceType: 'string',
                nullable: false,
              },
              // createdAt: 50/50 present; date 2026-01-01…2026-01-02. date → timestamptz
              {
                name: 'created_at',
                path: ['createdAt'],
                pgType: 'timestamptz',
                sourceType: 'date',
                nullable: false,
              },
              // email: 50/50 present; string, length 24…29. string → text
              { name: 'email', path: ['email'], pgType: 'text', sourceType: 'string', nullable: false },
              // kycLevel: 50/50 present; int 0…2. int → integer
              {
                name: 'kyc_level',
                path: ['kycLevel'],
                pgType: 'integer',
                sourceType: 'int',
                nullable: false,
                allowed: [0, 1, 2],
              },
              // name: 50/50 present; string, length 9…15. string → text
              { name: 'name', path: ['name'], pgType: 'text', sourceType: 'string', nullable: false },
              // phone: 28/50 present; string, length 11…11. string → text
              { name: 'phone', path: ['phone'], pgType: 'text', sourceType: 'string', nullable: true },
              // roles: 50/50 present; length 1…2; elements string, length 5…6. an array of scalars of one
              // type: a PostgreSQL text[] keeps order and every value
              {
                name: 'roles',
                path: ['roles'],
                pgType: 'text[]',
                sourceType: 'string',
                nullable: false,
                allowed: ['buyer', 'seller', 'admin'],
              },
              // status: 50/50 present; string, length 6…9. string → text
              {
                name: 'status',
                path: ['status'],
                pgType: 'text',
                sourceType: 'string',
                nullable: false,
                allowed: ['active', 'suspended', 'closed'],
              },
              // updatedAt: 50/50 present; date 2026-01-01…2026-01-02. date → timestamptz
              {
                name: 'updated_at',
                path: ['updatedAt'],
                pgType: 'timestamptz',
                sourceType: 'date',
                nullable: false,
              },
              // preferences: 50/50 present; 3 stable keys. the model declares a Map (its keys are data): one
              // jsonb column keeps every key, present and future
              {
                name: 'preferences',
                path: ['preferences'],
                pgType: 'jsonb',
                sourceType: 'object',
                nullable: true,
              },
            ],
          },
        ],
        // The source's indexes; `ferry plan` translates them (unique, partial, TTL, text).
        indexes: [
          { name: 'email_1', key: { email: 1 }, unique: true },
          // Reviewed: the model declares this index sparse (unique among the users who gave a phone);
          // FerretDB did not report it so, and without it PostgreSQL would allow one user without.
          { name: 'phone_1', key: { phone: 1 }, unique: true, sparse: true },
        ],
      },
      {
        // 69 document(s); 1 table(s)
        name: 'wallets',
        tables: [
          {
            // root table: one row per document
            name: 'wallets',
            columns: [
              // _id: 69/69 present; objectId (reversible uuid). ObjectId _id: the reversible, time-ordered
              // uuid, primary key
              { name: 'id', path: ['_id'], pgType: 'uuid', sourceType: 'objectId', nullable: false },
              // __v: 69/69 present; int 0…0. int → integer
              { name: 'v', path: ['__v'], pgType: 'integer', sourceType: 'int', nullable: false },
              // balanceMinor: 69/69 present; int -60700…51500. int → integer
              {
                name: 'balance_minor',
                path: ['balanceMinor'],
                pgType: 'integer',
                sourceType: 'int',
                nullable: false,
              },
              // createdAt: 69/69 present; date 2026-01-02…2026-01-02. date → timestamptz
              {
                name: 'created_at',
                path: ['createdAt'],
                pgType: 'timestamptz',
                sourceType: 'date',
                nullable: false,
              },
              // currency: 69/69 present; string, length 3…3. string → text
              {
                name: 'currency',
                path: ['currency'],
                pgType: 'text',
                sourceType: 'string',
                nullable: false,
                allowed: ['EUR', 'USD', 'GBP'],
              },
              // entrySeq: 69/69 present; int 1…10. int → integer
              {
                name: 'entry_seq',
                path: ['entrySeq'],
                pgType: 'integer',
                sourceType: 'int',
                nullable: false,
              },
              // limits: 33/69 present; 1 stable keys. an object with stable keys: flattened into parent_child
              // columns
              // limits.dailyMinor: 33/69 present; int 10000…200000. int → integer
              {
                name: 'limits_daily_minor',
                path: ['limits', 'dailyMinor'],
                pgType: 'integer',
                sourceType: 'int',
                nullable: true,
              },
              // status: 69/69 present; string, length 4…4. string → text
              {
                name: 'status',
                path: ['status'],
                pgType: 'text',
                sourceType: 'string',
                nullable: false,
                allowed: ['open', 'frozen', 'closed'],
              },
              // updatedAt: 69/69 present; date 2026-01-02…2026-01-02. date → timestamptz
              {
                name: 'updated_at',
                path: ['updatedAt'],
                pgType: 'timestamptz',
                sourceType: 'date',
                nullable: false,
              },
              // user: 69/69 present; objectId (reversible uuid). ids of objectId → users (100%): a foreign
              // key to users.id
              {
                name: 'user',
                path: ['user'],
                pgType: 'uuid',
                sourceType: 'objectId',
                nullable: false,
                references: { table: 'users', column: 'id' },
              },
            ],
          },
        ],
        // The source's indexes; `ferry plan` translates them (unique, partial, TTL, text).
        indexes: [
          { name: 'user_1', key: { user: 1 } },
          { name: 'user_1_currency_1', key: { user: 1, currency: 1 }, unique: true },
        ],
      },
    ],
  },
});
