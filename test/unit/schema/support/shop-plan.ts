import type { PlanInput } from '../../../../src/mapping/model.js';
import {
  type CollectionInput,
  child,
  col,
  collection,
  objectIdColumn as id,
  planOf,
  table,
} from '../../../support/plans.js';

/**
 * A shop with every shape the schema compiler handles: flattened columns, an array child, a
 * nested child, a map child, a discriminator, a self-reference (categories) and two
 * collections that reference each other (users.favoriteOrder ↔ orders.userId).
 */
export function shopPlan(indexes: CollectionInput['indexes'] = []): PlanInput {
  return planOf(
    collection(
      'users',
      [
        table('users', [
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
        ]),
        child('users_addresses', 'users', ['addresses'], 'array', [
          col('city', ['city'], 'text', 'string'),
          col('zip', ['zip'], 'text', 'string'),
        ]),
        child(
          'users_addresses_lines',
          'users_addresses',
          ['lines'],
          'array',
          [col('value', [], 'text', 'string')],
          ['parent_id', 'parent_idx'],
        ),
        child('users_settings', 'users', ['settings'], 'map', [col('value', [], 'jsonb', 'any')]),
      ],
      indexes,
    ),
    collection('orders', [
      table(
        'orders',
        [
          id,
          col('user_id', ['userId'], 'uuid', 'objectId', { references: { table: 'users', column: 'id' } }),
          col('total', ['total'], 'numeric(12,2)', 'decimal'),
        ],
        {
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
      ),
    ]),
    collection('categories', [
      table('categories', [
        id,
        col('name', ['name'], 'text', 'string'),
        col('parent_id', ['parentId'], 'uuid', 'objectId', {
          references: { table: 'categories', column: 'id' },
        }),
      ]),
    ]),
  );
}
