import { describe, expect, it } from 'vitest';
import type { PlanInput } from '../../../src/mapping/model.js';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { buildSchema } from '../../../src/schema/build-schema.js';
import { ddlPhases } from '../../../src/schema/phases.js';
import { renderSql } from '../../../src/schema/statements.js';
import { shopPlan } from './support/shop-plan.js';

type IndexInput = NonNullable<PlanInput['collections'][number]['indexes']>[number];

function translate(...indexes: IndexInput[]) {
  const model = buildSchema(parsePlan(shopPlan(indexes)));
  const sql = renderSql(
    ddlPhases(model).afterLoad.filter((s) => s.kind === 'create_index'),
    { kind: 'schema', name: 'app' },
  );
  return { model, sql };
}

describe('MongoDB index translation', () => {
  it('skips the _id index, which is the primary key', () => {
    expect(translate({ name: '_id_', key: { _id: 1 } }).model.indexes).toEqual([]);
  });

  it('turns a unique single-field index into a unique btree index', () => {
    expect(translate({ name: 'email_1', key: { email: 1 }, unique: true }).sql).toBe(
      'create unique index if not exists "users_email_1" on "app"."users" using btree ("email") nulls not distinct;\n',
    );
  });

  it('turns an index on an array column (multikey) into GIN, except a unique one', () => {
    expect(translate({ name: 'tags_-1', key: { tags: -1 } }).sql).toBe(
      'create index if not exists "users_tags_1" on "app"."users" using gin ("tags");\n',
    );
    expect(translate({ name: 'tags_1', key: { tags: 1 }, unique: true }).sql).toContain(
      'using btree ("tags")',
    );
  });

  it('keeps the fields and directions of a compound index, through flattened paths', () => {
    expect(
      translate({ name: 'name.last_1_name.first_-1', key: { 'name.last': 1, 'name.first': -1 } }).sql,
    ).toContain('using btree ("name_last", "name_first" desc)');
  });

  it('turns a partial filter of simple operators into WHERE', () => {
    const { sql } = translate({
      name: 'adults',
      key: { email: 1 },
      unique: true,
      partialFilterExpression: {
        age: { $gte: 18, $lt: 130 },
        bio: { $exists: true },
        email: { $type: 'string' },
      },
    });
    expect(sql).toContain('where "age" >= 18 and "age" < 130 and "bio" is not null and "email" is not null');
  });

  it('refuses a unique index whose filter cannot be translated, with a warning naming it', () => {
    const { model } = translate({
      name: 'odd',
      key: { email: 1 },
      unique: true,
      partialFilterExpression: { age: { $in: [1] } },
    });
    expect(model.indexes).toEqual([]);
    expect(model.warnings).toEqual([
      expect.objectContaining({ code: 'INDEX_PARTIAL_FILTER_UNSUPPORTED', item: 'odd', collection: 'users' }),
    ]);
  });

  it('turns a sparse index into a partial index on IS NOT NULL, any key field present', () => {
    expect(translate({ name: 'bio_1', key: { bio: 1 }, sparse: true }).sql).toContain(
      'where "bio" is not null',
    );
    expect(translate({ name: 'ba', key: { bio: 1, age: 1 }, sparse: true }).sql).toContain(
      'where ("bio" is not null or "age" is not null)',
    );
  });

  it('turns a TTL index into a cleanup rule and an index on its date column', () => {
    const { model, sql } = translate({
      name: 'createdAt_1',
      key: { createdAt: 1 },
      expireAfterSeconds: 3600,
    });
    expect(model.ttl).toEqual([
      { table: 'users', column: 'created_at', seconds: 3600, source: 'createdAt_1' },
    ]);
    expect(sql).toContain('("created_at")');
  });

  it('warns when a TTL index is on a field that is not a date column', () => {
    const { model } = translate({ name: 'email_ttl', key: { email: 1 }, expireAfterSeconds: 60 });
    expect(model.ttl).toEqual([]);
    expect(model.warnings.map((w) => w.code)).toEqual(['INDEX_TTL_NOT_A_DATE']);
  });

  it('turns a text index into a GIN index over to_tsvector in its language', () => {
    const { sql } = translate({
      name: 'bio_text',
      key: { _fts: 'text', _ftsx: 1 },
      options: { weights: { bio: 1, email: 1 }, default_language: 'spanish' },
    });
    expect(sql).toBe(
      `create index if not exists "users_bio_text" on "app"."users" using gin ((to_tsvector('spanish'::regconfig, coalesce("bio", '') || ' ' || coalesce("email", ''))));\n`,
    );
  });

  it('maps distinct text weights onto setweight A, B, …', () => {
    const { sql } = translate({
      name: 't',
      key: { bio: 'text', email: 'text' },
      options: { weights: { bio: 10, email: 2 } },
    });
    expect(sql).toContain(`setweight(to_tsvector('english'::regconfig, coalesce("bio", '')), 'A')`);
    expect(sql).toContain(`setweight(to_tsvector('english'::regconfig, coalesce("email", '')), 'B')`);
  });

  it('warns about a text language PostgreSQL lacks and falls back to simple', () => {
    const { model, sql } = translate({
      name: 't',
      key: { bio: 'text' },
      options: { default_language: 'klingon' },
    });
    expect(sql).toContain(`'simple'::regconfig`);
    expect(model.warnings.map((w) => w.code)).toEqual(['INDEX_TEXT_OPTION_IGNORED']);
  });

  it.each([
    ['2dsphere', { location: '2dsphere' }],
    ['hashed', { email: 'hashed' }],
    ['wildcard', { '$**': 1 }],
    ['2d', { loc: '2d' }],
  ])('names a %s index in a warning instead of dropping it silently', (kind, key) => {
    const { model } = translate({ name: `idx_${kind}`, key });
    expect(model.indexes).toEqual([]);
    expect(model.warnings).toEqual([
      expect.objectContaining({
        code: 'INDEX_UNSUPPORTED_KIND',
        item: `idx_${kind}`,
        message: expect.stringContaining(kind),
      }),
    ]);
  });

  it('warns when an index field lives in a child table, in _extra, or in a discriminator', () => {
    const { model } = translate(
      { name: 'city', key: { 'addresses.city': 1 } },
      { name: 'nickname', key: { nickname: 1 } },
      { name: 'compound', key: { email: 1, nickname: 1 } },
    );
    expect(model.indexes).toEqual([]);
    expect(model.warnings.map((w) => [w.item, w.code])).toEqual([
      ['city', 'INDEX_FIELD_IN_CHILD_TABLE'],
      ['nickname', 'INDEX_FIELD_UNMAPPED'],
      ['compound', 'INDEX_FIELD_UNMAPPED'],
    ]);
    expect(model.warnings[0]!.message).toContain('users_addresses');
  });

  it('warns about options it cannot translate, such as a collation', () => {
    const { model } = translate({
      name: 'email_ci',
      key: { email: 1 },
      options: { collation: { locale: 'en', strength: 2 } },
    });
    expect(model.indexes).toHaveLength(1);
    expect(model.warnings).toEqual([
      expect.objectContaining({
        code: 'INDEX_OPTION_IGNORED',
        message: expect.stringContaining('collation'),
      }),
    ]);
  });

  it('gives two indexes whose names collide distinct PostgreSQL names', () => {
    const { model } = translate(
      { name: 'email_1', key: { email: 1 } },
      { name: 'email-1', key: { email: -1 } },
    );
    expect(model.indexes.map((i) => i.name)).toEqual(['users_email_1', 'users_email_1_2']);
  });
});
