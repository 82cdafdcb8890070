/**
 * What Ferry reads from an application's Mongoose models: plain JSON, produced in a child
 * process (read-models.ts) from `mongoose.modelNames()` and merged with the data's evidence
 * (merge-models.ts). Only what the schemas declare is kept; functions are described, never run.
 */

/**
 * One path a schema declares. Paths use the inference statistics' segments: `[]` for every
 * element of an array, `*` for every value of a Map, so `items.[].sku` names the same field in
 * the model and in the data.
 *
 * @example
 * const amount: ModelField = { path: ['amountMinor'], type: 'Number', required: true };
 */
export interface ModelField {
  readonly path: readonly string[];
  /**
   * The Mongoose type (`String`, `Number`, `Decimal128`, `Date`, `Boolean`, `ObjectId`, `Map`,
   * `Array`, `Subdocument`, `Buffer`, `Mixed`, `UUID`, `BigInt`, `Double`, `Int32`).
   */
  readonly type: string;
  /** For `Array`: the element type (`Subdocument` for an array of sub-documents); for `Map`: the value type. */
  readonly of?: string;
  /** `required: true` (a conditional `required` function is not counted: the data decides). */
  readonly required?: boolean;
  /** The allowed values (`enum`), of the field or, for an array, of its elements. */
  readonly enum?: readonly (string | number)[];
  /** The model a reference points at (`ref`), of the field or of an array's elements. */
  readonly ref?: string;
  /** The sibling path naming the model of a polymorphic reference (`refPath`). */
  readonly refPath?: readonly string[];
  /** The default, described (`'active'`, `[]`, `function now`); never evaluated. */
  readonly default?: string;
  readonly index?: boolean;
  readonly unique?: boolean;
  readonly sparse?: boolean;
  /** `expires`: seconds after the date in this field when MongoDB deletes the document. */
  readonly expires?: number;
  /** Set on the paths the `timestamps` option adds. */
  readonly timestamp?: 'createdAt' | 'updatedAt';
}

/**
 * An index a schema declares, field-level ones (`index`, `unique`, `sparse`, `expires`)
 * included, as `schema.indexes()` lists them.
 *
 * @example
 * const ttl: ModelIndex = { key: { expiresAt: 1 }, options: { expireAfterSeconds: 0 } };
 */
export interface ModelIndex {
  readonly key: Readonly<Record<string, number | string>>;
  readonly options: Readonly<Record<string, unknown>>;
}

/**
 * One registered model: its name, the collection it stores in and what its schema declares.
 *
 * @example
 * declare const models: ModelSchemas;
 * for (const m of models.models) console.log(m.name, '→', m.collection, m.fields.length);
 */
export interface ModelSchema {
  readonly name: string;
  readonly collection: string;
  readonly fields: readonly ModelField[];
  readonly indexes: readonly ModelIndex[];
  /** The `timestamps` option's paths, when it is on. */
  readonly timestamps?: { readonly createdAt?: string; readonly updatedAt?: string };
  /** The `versionKey` (`__v` by default), which Mongoose maintains itself. */
  readonly versionKey?: string;
}

/**
 * Every model the user's modules registered, with where they were read from.
 *
 * @example
 * const models = await readModels('src/models');
 * models.models.map((m) => m.name); // ['LedgerEntry', 'User', …]
 */
export interface ModelSchemas {
  readonly version: 1;
  /** The module files imported, in order. */
  readonly files: readonly string[];
  /** The mongoose module the models registered on (resolved from the models' folder). */
  readonly mongoose: string;
  readonly models: readonly ModelSchema[];
}

/** What the child process reports: the schemas, or why it could not read them. */
export type ModelReaderReply =
  | { readonly ok: true; readonly schemas: ModelSchemas }
  | {
      readonly ok: false;
      readonly problem: 'import-failed' | 'no-mongoose' | 'no-models' | 'no-files';
      readonly file?: string;
      readonly message: string;
    };
