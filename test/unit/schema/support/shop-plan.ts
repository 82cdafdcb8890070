import type { PlanInput } from '../../../../src/mapping/model.js';

type CollectionInput = PlanInput['collections'][number];
type TableInput = CollectionInput['tables'][number];
type ColumnInput = TableInput['columns'][number];

const id: ColumnInput = {
  name: 'id',
  path: ['_id'],
  pgType: 'uuid',
  sourceType: 'objectId',
  nullable: false,
};
const col = (
  name: string,
  path: string[],
  pgType: string,
  sourceType: ColumnInput['sourceType'],
  extra: Partial<ColumnInput> = {},
): ColumnInput => ({
  name,
  path,
  pgType,
  sourceType,
  nullable: true,
  ...extra,
});

/**
 * A shop with every shape the schema compiler handles: flattened columns, an array child, a
 * nested child, a map child, a discriminator, a self-reference (categories) and two
 * collections that reference each other (users.favoriteOrder ↔ orders.userId).
 */
export function shopPlan(indexes: CollectionInput['indexes'] = []): PlanInput {
  return {
    version: 1,
    collections: [
      {
        name: 'users',
        tables: [
          {
            name: 'users',
            columns: [
              id,
              col('email', ['email'], 'text', 'string'),
              col('name_first', ['name', 'first'], 'text', 'string'),
              col('name_last', ['name', 'last'], 'text', 'string'),
              col('bio', ['bio'], 'text', 'string'),
              col('age', ['age'], 'integer', 'int'),
              col('created_at', ['createdAt'], 'timestamptz', 'date'),
              col('tags', ['tags'], 'text[]', 'string'),
              col('favorite_order', ['favoriteOrder'], 'uuid', 'objectId', {
                references: { table: 'orders', column: 'id' },
              }),
            ],
          },
          {
            name: 'users_addresses',
            parent: {
              table: 'users',
              path: ['addresses'],
              shape: 'array',
              columns: ['parent_id'],
              ordinal: 'idx',
            },
            columns: [col('city', ['city'], 'text', 'string'), col('zip', ['zip'], 'text', 'string')],
          },
          {
            name: 'users_addresses_lines',
            parent: {
              table: 'users_addresses',
              path: ['lines'],
              shape: 'array',
              columns: ['parent_id', 'parent_idx'],
              ordinal: 'idx',
            },
            columns: [col('value', [], 'text', 'string')],
          },
          {
            name: 'users_settings',
            parent: {
              table: 'users',
              path: ['settings'],
              shape: 'map',
              columns: ['parent_id'],
              ordinal: 'key',
            },
            columns: [col('value', [], 'jsonb', 'any')],
          },
        ],
        indexes,
      },
      {
        name: 'orders',
        tables: [
          {
            name: 'orders',
            columns: [
              id,
              col('user_id', ['userId'], 'uuid', 'objectId', {
                references: { table: 'users', column: 'id' },
              }),
              col('total', ['total'], 'numeric(12,2)', 'decimal'),
            ],
            discriminators: [
              {
                path: ['owner'],
                columns: { kind: 'owner_kind', id: 'owner_id', ref: 'owner_ref' },
                kinds: [
                  { name: 'user', idType: 'objectId', table: 'users' },
                  { name: 'guest', idType: 'string' },
                ],
              },
            ],
          },
        ],
      },
      {
        name: 'categories',
        tables: [
          {
            name: 'categories',
            columns: [
              id,
              col('name', ['name'], 'text', 'string'),
              col('parent_id', ['parentId'], 'uuid', 'objectId', {
                references: { table: 'categories', column: 'id' },
              }),
            ],
          },
        ],
      },
    ],
  };
}
