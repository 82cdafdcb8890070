import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { buildSchema } from '../../../src/schema/build-schema.js';
import { camelCase, IdentifierPool, pascalCase } from '../../../src/schema/export/code-names.js';
import { exportDrizzle, exportPrisma } from '../../../src/schema/export/index.js';
import { child, col, collection, objectIdColumn, planOf, table } from '../../support/plans.js';

/** Two collections, a child table, two references from one table to another, and a partial index. */
function shopPlan() {
  return parsePlan(
    planOf(
      collection(
        'users',
        [table('users', [objectIdColumn, col('email', ['email'], 'text', 'string')])],
        [
          {
            name: 'email_1',
            key: { email: 1 },
            unique: true,
            partialFilterExpression: { email: { $exists: true } },
          },
        ],
      ),
      collection('orders', [
        table('orders', [
          objectIdColumn,
          col('buyer_id', ['buyerId'], 'uuid', 'objectId', {
            nullable: false,
            references: { table: 'users', column: 'id' },
          }),
          col('seller_id', ['sellerId'], 'uuid', 'objectId', {
            references: { table: 'users', column: 'id' },
          }),
          col('tags', ['tags'], 'text[]', 'string'),
        ]),
        child('orders_lines', 'orders', ['lines'], 'array', [col('qty', ['qty'], 'integer', 'int')]),
      ]),
    ),
  );
}

describe('ORM identifiers', () => {
  it('turns plan names into camelCase and PascalCase, and never starts with a digit', () => {
    expect(camelCase('purchase_requests_milestones', 'table')).toBe('purchaseRequestsMilestones');
    expect(camelCase('_extra', 'column')).toBe('extra');
    expect(camelCase('2fa_code', 'column')).toBe('column2faCode');
    expect(camelCase('日本', 'table')).toBe('table');
    expect(pascalCase('order_items', 'Model')).toBe('OrderItems');
  });

  it('hands out each identifier once, skipping reserved words and names already taken', () => {
    const pool = new IdentifierPool(['text']);
    expect(pool.take('user_id')).toBe('userId');
    expect(pool.take('userId')).toBe('userId2');
    expect(pool.take('text')).toBe('text2');
    expect(pool.take('class')).toBe('class_');
  });
});

describe('exportDrizzle and exportPrisma', () => {
  it('give the same bytes for equal plans', () => {
    const a = buildSchema(shopPlan());
    const b = buildSchema(shopPlan());
    expect(exportDrizzle(a, { schema: 'public' })).toBe(exportDrizzle(b, { schema: 'public' }));
    expect(exportPrisma(a, { schema: 'app' })).toBe(exportPrisma(b, { schema: 'app' }));
  });

  it('name two references to the same table apart on both sides', () => {
    const model = buildSchema(shopPlan());
    const drizzle = exportDrizzle(model, { schema: 'public' });
    expect(drizzle).toContain(
      "  buyer: one(users, { fields: [orders.buyerId], references: [users.id], relationName: 'orders_buyer_id_fkey' }),",
    );
    expect(drizzle).toContain("  ordersByBuyer: many(orders, { relationName: 'orders_buyer_id_fkey' }),");
    expect(drizzle).toContain("  ordersBySeller: many(orders, { relationName: 'orders_seller_id_fkey' }),");
    expect(drizzle).toContain("  lines: many(ordersLines, { relationName: 'orders_lines_parent_fkey' }),");

    const prisma = exportPrisma(model, { schema: 'public' });
    expect(prisma).toContain(
      '  buyer Users @relation("orders_buyer_id_fkey", fields: [buyerId], references: [id], onDelete: NoAction, onUpdate: NoAction, map: "orders_buyer_id_fkey")',
    );
    expect(prisma).toContain(
      '  seller Users? @relation("orders_seller_id_fkey", fields: [sellerId], references: [id], onDelete: NoAction, onUpdate: NoAction, map: "orders_seller_id_fkey")',
    );
    expect(prisma).toContain('  ordersByBuyer Orders[] @relation("orders_buyer_id_fkey")');
    expect(prisma).toContain(
      '  orders Orders @relation("orders_lines_parent_fkey", fields: [parentId], references: [id], onDelete: Cascade, onUpdate: NoAction, map: "orders_lines_parent_fkey")',
    );
    expect(prisma).toContain('  @@id([parentId, idx], map: "orders_lines_pkey")');
    expect(prisma).toContain('  @@map("orders_lines")');
    expect(prisma).toContain('  buyerId String @db.Uuid @map("buyer_id")');
  });

  it('say in a comment what Prisma cannot express instead of dropping it', () => {
    const prisma = exportPrisma(buildSchema(shopPlan()), { schema: 'public' });
    expect(prisma).toContain(
      '/// index users_email_1 (Prisma cannot express it; PostgreSQL keeps it): unique using btree ("email") where "email" is not null',
    );
    expect(prisma).toContain('/// tags: text[] may be NULL in PostgreSQL; Prisma lists cannot be optional');
    expect(prisma).not.toContain('@@unique');
    expect(prisma).toContain(
      '/// MongoDB collection "orders": child table of "orders", keyed by (parent_id, idx).',
    );
  });
});
