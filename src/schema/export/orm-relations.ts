import type { ForeignKeyDef, SchemaModel } from '../schema-model.js';
import { camelCase } from './code-names.js';

/**
 * One foreign key seen from both ends, with the names an ORM gives each end: the table
 * holding the key (`owner`) points at one row of `target`; `target` has many rows of `owner`.
 * Drizzle's `relations()` and Prisma's relation fields are built from the same list, so the
 * two exports name the same relation the same way.
 */
export interface OrmRelation {
  readonly foreignKey: ForeignKeyDef;
  /** Field on the owner: the row it points at (`buyer` for `buyer_id`, the parent table for a child). */
  readonly oneName: string;
  /** Field on the target: the rows that point at it (`items` for `orders_items`). */
  readonly manyName: string;
}

/**
 * The relations of a schema, in foreign-key order, with readable names that are not yet
 * made unique (each export checks them against its own field names).
 *
 * @example
 * declare const model: SchemaModel;
 * for (const r of ormRelations(model)) console.log(`${r.foreignKey.table}.${r.oneName} ↔ ${r.foreignKey.refTable}.${r.manyName}`);
 */
export function ormRelations(model: SchemaModel): readonly OrmRelation[] {
  const pairs = new Map<string, number>();
  for (const fk of model.foreignKeys) {
    const key = `${fk.table}\u0000${fk.refTable}`;
    pairs.set(key, (pairs.get(key) ?? 0) + 1);
  }
  return model.foreignKeys.map((fk) => {
    const shared = (pairs.get(`${fk.table}\u0000${fk.refTable}`) ?? 0) > 1;
    if (fk.kind === 'parent') {
      const own = fk.table.startsWith(`${fk.refTable}_`) ? fk.table.slice(fk.refTable.length + 1) : fk.table;
      return {
        foreignKey: fk,
        oneName: camelCase(fk.refTable, 'parent'),
        manyName: camelCase(own, 'children'),
      };
    }
    const column = fk.columns.join('_');
    const base = column.replace(/_?id$/i, '');
    const oneName = camelCase(base.length > 0 && base !== column ? base : `${column}_ref`, 'ref');
    // Two keys from the same table to the same target (buyer_id, seller_id → users) need
    // the column in the back-reference's name to tell them apart; so does a table pointing at
    // itself (users.referred_by: `usersByReferredBy`, not a second `users`).
    const named = shared || fk.table === fk.refTable;
    const manyName = camelCase(named ? `${fk.table}_by_${base || column}` : fk.table, 'referrers');
    return { foreignKey: fk, oneName, manyName };
  });
}
