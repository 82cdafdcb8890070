/**
 * The schema as ORM code: a Drizzle `pg-core` module and a Prisma schema, both from the
 * schema model of a plan, so the application's code talks to exactly the tables Ferry made.
 *
 * @example
 * declare const plan: Plan;
 * const model = buildSchema(plan);
 * const drizzle = exportDrizzle(model, { schema: 'public' });
 * const prisma = exportPrisma(model, { schema: 'public' });
 */
export { camelCase, IdentifierPool, pascalCase } from './code-names.js';
export { exportDrizzle } from './drizzle-export.js';
export type { OrmExportOptions } from './export-notes.js';
export { type OrmRelation, ormRelations } from './orm-relations.js';
export { exportPrisma } from './prisma-export.js';
