import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../src/core/errors.js';
import { discriminatorCheck, physicalColumns } from '../../../src/mapping/model.js';
import { defineTransforms } from '../../../src/mapping/transforms.js';
import { checkPlan, parsePlan } from '../../../src/mapping/validate-plan.js';
import {
  child,
  col,
  collection,
  objectIdColumn,
  onePlan,
  planInput,
  planOf,
  table,
} from '../../support/plans.js';

function problems(input: unknown, options = {}) {
  const result = checkPlan(input, options);
  return result.ok ? [] : result.problems;
}

describe('plan validation', () => {
  it('accepts a plan with a root, nested children, flattened columns, a map and a discriminator', () => {
    const plan = onePlan('orders', [
      {
        name: 'orders',
        columns: [objectIdColumn, col('address_city', ['address', 'city'], 'text', 'string')],
        discriminators: [
          {
            path: ['target'],
            kindPath: ['targetType'],
            columns: { kind: 'target_kind', id: 'target_id', ref: 'target_ref' },
            kinds: [
              { name: 'user', idType: 'objectId', table: 'users' },
              { name: 'sku', idType: 'string' },
            ],
          },
        ],
      },
      child('orders_items', 'orders', ['items'], 'array', [col('qty', ['qty'], 'integer', 'int')]),
      child(
        'orders_items_notes',
        'orders_items',
        ['notes'],
        'array',
        [col('value', [], 'text', 'string')],
        ['parent_id', 'parent_idx'],
      ),
      child('orders_prices', 'orders', ['prices'], 'map', [col('value', [], 'numeric', 'decimal')]),
    ]);
    expect(Object.isFrozen(plan.collections[0]?.tables[0]?.columns)).toBe(true);
    const [collection] = plan.collections;
    const notes = collection!.tables[2]!;
    expect(physicalColumns(collection!, notes).map((c) => `${c.name} ${c.pgType}`)).toEqual([
      'parent_id uuid',
      'parent_idx integer',
      'idx integer',
      'value text',
      '_extra jsonb',
    ]);
    expect(discriminatorCheck(collection!.tables[0]!.discriminators![0]!)).toContain(
      `("target_kind" = 'user' and "target_id" is not null and "target_ref" is null)`,
    );
  });

  it('refuses an unknown type name with the path of the column', () => {
    expect(
      problems(planInput('c', [{ name: 'c', columns: [objectIdColumn, col('n', ['n'], 'int4', 'int')] }])),
    ).toEqual([
      {
        path: 'collections[0].tables[0].columns[1].pgType',
        reason: expect.stringContaining('unknown PostgreSQL type "int4"'),
      },
    ]);
  });

  it('refuses a column type too narrow for its declared source type', () => {
    const found = problems(
      planInput('c', [
        {
          name: 'c',
          columns: [
            objectIdColumn,
            col('a', ['a'], 'integer', 'long'),
            col('b', ['b'], 'double precision', 'decimal'),
            col('c', ['c'], 'numeric(12,2)', 'long'),
            col('d', ['d'], 'text', 'date'),
          ],
        },
      ]),
    );
    expect(found.map((p) => p.path)).toEqual([
      'collections[0].tables[0].columns[1].pgType',
      'collections[0].tables[0].columns[2].pgType',
      'collections[0].tables[0].columns[3].pgType',
      'collections[0].tables[0].columns[4].pgType',
    ]);
    expect(found[0]?.reason).toContain('integer is too narrow for long values');
    expect(found[2]?.reason).toContain('need 19 digits');
  });

  it('refuses duplicate columns, the reserved _extra name and overlapping paths', () => {
    const found = problems(
      planInput('c', [
        {
          name: 'c',
          columns: [
            objectIdColumn,
            col('a', ['a'], 'text', 'string'),
            col('a', ['b'], 'text', 'string'),
            col('_extra', ['x'], 'jsonb', 'any'),
            col('a_b', ['a', 'b'], 'text', 'string'),
          ],
        },
      ]),
    );
    const reasons = found.map((p) => p.reason).join('\n');
    expect(reasons).toContain('duplicate column "a"');
    expect(reasons).toContain('"_extra" is reserved');
    expect(reasons).toContain('overlaps ["a"]');
  });

  it('refuses a child without a parent, a parent after its child, and a wrong parent key width', () => {
    expect(
      problems(
        planInput('c', [
          { name: 'c', columns: [objectIdColumn] },
          { name: 'orphan', columns: [] },
          child('c_x', 'nope', ['x'], 'array', []),
          child('c_y', 'c', ['y'], 'array', [], ['parent_id', 'extra_key']),
        ]),
      ),
    ).toEqual([
      { path: 'collections[0].tables[1].parent', reason: expect.stringContaining('needs a parent') },
      {
        path: 'collections[0].tables[2].parent.table',
        reason: expect.stringContaining('"nope" is not in collection'),
      },
      { path: 'collections[0].tables[3].parent.columns', reason: expect.stringContaining('1-column key') },
    ]);
  });

  it('refuses a root without exactly one non-nullable _id column', () => {
    expect(
      problems(planInput('c', [{ name: 'c', columns: [col('n', ['n'], 'text', 'string')] }]))[0]?.reason,
    ).toContain('exactly one column with path ["_id"]');
    expect(
      problems(planInput('c', [{ name: 'c', columns: [{ ...objectIdColumn, nullable: true }] }]))[0]?.reason,
    ).toContain('must be non-nullable');
  });

  it('refuses a version field no root column maps or that cannot be ordered, and appendOnly with a TTL index', () => {
    const accounts = (version: string, pgType = 'integer') => ({
      ...collection('accounts', [
        table('accounts', [
          objectIdColumn,
          col('v', ['__v'], pgType, pgType === 'integer' ? 'int' : 'string'),
        ]),
      ]),
      version,
    });
    expect(problems(planOf(accounts('__v')))).toEqual([]);
    expect(problems(planOf(accounts('meta.rev')))).toEqual([
      {
        path: 'collections[0].version',
        reason: 'no column of the root table maps field "meta.rev"; the version field needs one',
      },
    ]);
    expect(problems(planOf(accounts('__v', 'text')))[0]?.reason).toContain(
      'a version needs a number or timestamptz column',
    );
    const ledger = {
      ...collection(
        'ledger',
        [table('ledger', [objectIdColumn, col('at', ['at'], 'timestamptz', 'date')])],
        [{ name: 'at_1', key: { at: 1 }, expireAfterSeconds: 60 }],
      ),
      appendOnly: true,
    };
    expect(problems(planOf(ledger))).toEqual([
      {
        path: 'collections[0].appendOnly',
        reason:
          'collection "ledger" is append-only but has the TTL index at_1, whose cleanup deletes rows; drop one of the two',
      },
    ]);
  });

  it('refuses references to unknown tables or of another type', () => {
    const found = problems(
      planOf(
        collection('users', [table('users', [objectIdColumn])]),
        collection('orders', [
          table('orders', [
            objectIdColumn,
            col('user_id', ['userId'], 'uuid', 'objectId', { references: { table: 'users', column: 'id' } }),
            col('shop_id', ['shopId'], 'uuid', 'objectId', { references: { table: 'shops', column: 'id' } }),
            col('name', ['name'], 'text', 'string', { references: { table: 'users', column: 'id' } }),
          ]),
        ]),
      ),
    );
    expect(found).toEqual([
      { path: 'collections[1].tables[0].columns[2].references', reason: 'references unknown table "shops"' },
      {
        path: 'collections[1].tables[0].columns[3].references',
        reason: expect.stringContaining('does not match'),
      },
    ]);
  });

  it('refuses an unknown version, unknown keys, and an over-long identifier', () => {
    expect(problems({ version: 2, collections: [] })[0]?.path).toBe('version');
    expect(problems({ version: 1, collections: [], extra: 1 })[0]?.reason).toMatch(/unrecognized key/i);
    const long = planInput('c', [{ name: 'x'.repeat(64), columns: [objectIdColumn] }]);
    expect(problems(long)[0]).toEqual({
      path: 'collections[0].tables[0].name',
      reason: expect.stringContaining('longer than 63 bytes'),
    });
  });

  it('refuses a transform that is not registered, when the registry is given', () => {
    const input = planInput('c', [
      { name: 'c', columns: [objectIdColumn, col('n', ['n'], 'bigint', 'long', { transform: 'cents' })] },
    ]);
    expect(problems(input, { transforms: defineTransforms({}) })[0]).toEqual({
      path: 'collections[0].tables[0].columns[1].transform',
      reason: expect.stringContaining('"cents" is not registered'),
    });
  });

  it('refuses discriminators whose kind cannot be told from the value', () => {
    const found = problems(
      planInput('c', [
        {
          name: 'c',
          columns: [objectIdColumn],
          discriminators: [
            {
              path: ['a', 'target'],
              kindPath: ['kind'],
              columns: { kind: 'k', id: 'i', ref: 'r' },
              kinds: [
                { name: 'x', idType: 'objectId' },
                { name: 'x', idType: 'objectId' },
              ],
            },
            {
              path: ['owner'],
              columns: { kind: 'ok', id: 'oi', ref: 'or' },
              kinds: [
                { name: 'user', idType: 'objectId' },
                { name: 'team', idType: 'objectId' },
              ],
            },
          ],
        },
      ]),
    );
    expect(found.map((p) => p.reason)).toEqual([
      'the kind field must be a sibling of the id field',
      'duplicate kind name',
      'without a kindPath, each kind needs its own idType so the id decides the kind',
    ]);
  });

  it('throws one FerryError naming every problem with its path', () => {
    const input = planInput('c', [
      { name: 'c', columns: [objectIdColumn, col('n', ['n'], 'smallint', 'int')] },
    ]);
    let error: unknown;
    try {
      parsePlan(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FerryError);
    expect((error as FerryError).code).toBe('MAPPING_PLAN_INVALID');
    expect((error as FerryError).where.path).toBe('collections[0].tables[0].columns[1].pgType');
    expect((error as FerryError).message).toContain('unknown PostgreSQL type "smallint"');
  });
});
