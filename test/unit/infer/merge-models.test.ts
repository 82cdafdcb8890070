import { type Document, Int32, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { InferenceStats } from '../../../src/infer/index.js';
import { mergeModels } from '../../../src/infer/models/merge-models.js';
import { ModelObserver } from '../../../src/infer/models/model-observations.js';
import type { ModelField, ModelSchema, ModelSchemas } from '../../../src/infer/models/model-schema.js';
import { type Proposal, proposeMapping } from '../../../src/infer/propose.js';
import { canonicalEqual } from '../../../src/mapping/canonical/index.js';
import { allowedCheck } from '../../../src/mapping/model.js';
import { toDoc } from '../../../src/mapping/to-doc.js';
import { toRows } from '../../../src/mapping/to-rows.js';
import type { IndexSpec } from '../../../src/sources/types.js';

/** Statistics of the documents (optionally of only part of a collection), the data-only proposal and the merge. */
function merged(
  collections: Record<string, readonly Document[]>,
  models: readonly ModelSchema[],
  options: { partial?: string[]; indexes?: Record<string, readonly IndexSpec[]> } = {},
): Proposal {
  const stats = new InferenceStats();
  const schemas: ModelSchemas = { version: 1, files: [], mongoose: 'mongoose', models };
  const observer = ModelObserver.forModels(schemas);
  for (const [name, docs] of Object.entries(collections)) {
    stats.addCollection(name);
    for (const doc of docs) stats.add(name, doc);
    observer.observe(name, docs);
    if (options.partial?.includes(name)) stats.markPartial(name, { idsComplete: false });
  }
  const snapshot = stats.snapshot();
  const result = mergeModels(
    proposeMapping(snapshot, options.indexes ? { indexes: options.indexes } : {}),
    snapshot,
    schemas,
    observer,
  );
  // The merged mapping is still a bijection on every document it was inferred from.
  for (const [name, docs] of Object.entries(collections))
    for (const doc of docs) {
      const rows = toRows(result.plan, name, doc);
      if (!rows.ok) throw new Error(`rejected: ${rows.reject.reason}`);
      expect(canonicalEqual(toDoc(result.plan, name, rows.rows), doc)).toBe(true);
    }
  return result;
}

function model(
  name: string,
  collection: string,
  fields: ModelField[],
  extra: Partial<ModelSchema> = {},
): ModelSchema {
  return {
    name,
    collection,
    fields: [{ path: ['_id'], type: 'ObjectId' }, ...fields],
    indexes: [],
    ...extra,
  };
}

const oid = (i: number) => new ObjectId(`65c0000000000000000000${i.toString(16).padStart(2, '0')}`);
const users = Array.from({ length: 10 }, (_, i) => ({ _id: oid(i), status: i % 2 ? 'active' : 'closed' }));
const User = model('User', 'users', [{ path: ['status'], type: 'String', enum: ['active', 'closed'] }]);

function column(proposal: Proposal, collection: string, name: string) {
  return proposal.plan.collections
    .find((c) => c.name === collection)!
    .tables[0]!.columns.find((c) => c.name === name);
}

describe('mergeModels', () => {
  it('adds the foreign key of a ref when only a sample of the target was read, though no id matched', () => {
    const wallets = [{ _id: oid(100), user: oid(50) }];
    const Wallet = model('Wallet', 'wallets', [{ path: ['user'], type: 'ObjectId', ref: 'User' }]);
    const result = merged({ users, wallets }, [User, Wallet], { partial: ['users'] });
    expect(column(result, 'wallets', 'user')!.references).toEqual({ table: 'users', column: 'id' });
  });

  it('refuses the foreign key of a ref when the whole data proves ids that point nowhere', () => {
    const wallets = [
      { _id: oid(100), user: oid(1) },
      { _id: oid(101), user: oid(60) },
    ];
    const Wallet = model('Wallet', 'wallets', [{ path: ['user'], type: 'ObjectId', ref: 'User' }]);
    const result = merged({ users, wallets }, [User, Wallet]);
    expect(column(result, 'wallets', 'user')!.references).toBeUndefined();
    expect(result.report.warnings).toContainEqual(
      expect.objectContaining({ code: 'MODEL_REFERENCE_DANGLING', collection: 'wallets', path: 'user' }),
    );
  });

  it('lists the kinds a refPath field holds beyond its enum, and keeps an unknown kind out of the tables', () => {
    const ledger = [
      { _id: oid(200), subject: oid(1), subjectModel: 'User' },
      { _id: oid(201), subject: oid(2), subjectModel: 'Ghost' },
    ];
    const Entry = model('Entry', 'ledger', [
      { path: ['subject'], type: 'ObjectId', refPath: ['subjectModel'] },
      { path: ['subjectModel'], type: 'String', enum: ['User'] },
    ]);
    const result = merged({ users, ledger }, [User, Entry]);
    const table = result.plan.collections.find((c) => c.name === 'ledger')!.tables[0]!;
    expect(table.discriminators![0]!.kinds).toEqual([
      { name: 'User', idType: 'objectId', table: 'users' },
      { name: 'Ghost', idType: 'objectId' },
    ]);
    expect(result.report.warnings).toContainEqual(
      expect.objectContaining({ code: 'MODEL_REFERENCE_UNKNOWN', collection: 'ledger', path: 'subject' }),
    );
  });

  it('keeps a required field nullable when only a sample was read; its enum, whose values all fit, is a CHECK', () => {
    const result = merged(
      { users },
      [
        model('User', 'users', [
          { path: ['status'], type: 'String', enum: ['active', 'closed'], required: true },
        ]),
      ],
      { partial: ['users'] },
    );
    expect(column(result, 'users', 'status')).toMatchObject({
      nullable: true,
      allowed: ['active', 'closed'],
    });
    expect(result.report.warnings.find((w) => w.code === 'MODEL_REQUIRED_NOT_IN_DATA')!.message).toMatch(
      /only a sample was read/,
    );
  });

  it('gives a number enum a CHECK on an integer column, and a declared index already in the source is decided by both', () => {
    const levels = users.map((u, i) => ({ ...u, level: new Int32(i % 3) }));
    const result = merged(
      { users: levels },
      [
        model('User', 'users', [{ path: ['level'], type: 'Number', enum: [0, 1, 2] }], {
          indexes: [
            { key: { level: 1 }, options: {} },
            { key: { status: 1 }, options: { unique: true } },
          ],
        }),
      ],
      { indexes: { users: [{ name: 'level_1', key: { level: 1 } }] } },
    );
    const level = column(result, 'users', 'level')!;
    expect(allowedCheck(level)).toBe('"level" in (0, 1, 2)');
    expect(result.report.collections[0]!.indexes).toEqual([
      { name: 'level_1', key: { level: 1 }, decidedBy: 'both' },
      { name: 'status_1', key: { status: 1 }, unique: true, decidedBy: 'model' },
    ]);
  });

  it('writes an array enum as a containment CHECK', () => {
    expect(
      allowedCheck({
        name: 'roles',
        path: ['roles'],
        pgType: 'text[]',
        sourceType: 'string',
        nullable: true,
        allowed: ["o'k", 'b'],
      }),
    ).toBe(`"roles" <@ array['o''k', 'b']::text[]`);
  });

  it('replaces the columns the data flattened from a Map with one jsonb column, and round-trips', () => {
    const prefs = users.map((u) => ({ ...u, preferences: { email: true, sms: false } }));
    const result = merged({ users: prefs }, [
      model('User', 'users', [{ path: ['preferences'], type: 'Map', of: 'Boolean' }]),
    ]);
    expect(column(result, 'users', 'preferences')).toMatchObject({ pgType: 'jsonb', path: ['preferences'] });
    expect(column(result, 'users', 'preferences_email')).toBeUndefined();
  });
});
