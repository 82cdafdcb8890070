import { readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createJiti } from 'jiti';
import type { ModelField, ModelIndex, ModelReaderReply, ModelSchema } from './model-schema.js';

/**
 * The child process of `readModels`: imports the user's model modules, then serialises the
 * schemas of the mongoose they registered on. It runs apart from Ferry so that a module that
 * throws, hangs, or opens a connection at import cannot take Ferry down; it imports nothing of
 * Ferry's, and it exits as soon as its one reply is sent (a stray connection cannot keep it).
 */

const MODULE_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];

/** Entry point, called by the bootstrap read-models.ts gives `node -e`. */
export async function main(target: string): Promise<void> {
  const reply = await readModelsHere(path.resolve(target));
  await new Promise<void>((resolve) => {
    if (process.send) process.send(reply, () => resolve());
    else {
      process.stdout.write(`${JSON.stringify(reply)}\n`, () => resolve());
    }
  });
  process.exit(0);
}

async function readModelsHere(target: string): Promise<ModelReaderReply> {
  const files = await moduleFiles(target);
  if (files.length === 0)
    return { ok: false, problem: 'no-files', message: `no module files (${MODULE_EXTENSIONS.join(', ')})` };
  const folder = (await stat(target)).isDirectory() ? target : path.dirname(target);
  const jiti = createJiti(pathToFileURL(path.join(folder, 'index.js')).href, {
    moduleCache: true,
    fsCache: false,
    interopDefault: true,
  });
  for (const file of files) {
    try {
      await jiti.import(file);
    } catch (error) {
      return { ok: false, problem: 'import-failed', file, message: messageOf(error) };
    }
  }
  // The models registered on the mongoose their own folder resolves, which need not be the
  // one next to Ferry (a different version, or a second copy in a monorepo).
  let mongoose: MongooseLike;
  let resolved: string;
  try {
    const require = createRequire(path.join(folder, 'index.js'));
    resolved = require.resolve('mongoose');
    mongoose = require(resolved) as MongooseLike;
  } catch (error) {
    return { ok: false, problem: 'no-mongoose', message: messageOf(error) };
  }
  const names = [...mongoose.modelNames()].sort();
  if (names.length === 0)
    return { ok: false, problem: 'no-models', message: `no model is registered on ${resolved}` };
  const models = names.map((name) => serialiseModel(name, mongoose.model(name)));
  return { ok: true, schemas: { version: 1, files, mongoose: resolved, models } };
}

/** A directory with an index module: that one (it imports the rest); else every module in it. */
async function moduleFiles(target: string): Promise<string[]> {
  if (!(await stat(target)).isDirectory()) return [target];
  const entries = (await readdir(target, { withFileTypes: true }))
    .filter((e) => e.isFile() && isModule(e.name))
    .map((e) => e.name)
    .sort();
  const index = entries.find((name) => /^index\.[cm]?[jt]s$/.test(name));
  return (index ? [index] : entries).map((name) => path.join(target, name));
}

function isModule(name: string): boolean {
  if (name.endsWith('.d.ts') || /\.(test|spec)\.[cm]?[jt]s$/.test(name)) return false;
  return MODULE_EXTENSIONS.includes(path.extname(name));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// The slices of Mongoose's API this reads (structural, so any mongoose version with them works).
interface MongooseLike {
  modelNames(): string[];
  model(name: string): ModelLike;
}
interface ModelLike {
  readonly collection: { readonly collectionName: string };
  readonly schema: SchemaLike;
}
interface SchemaLike {
  eachPath(fn: (path: string, type: SchemaTypeLike) => void): void;
  indexes(): [Record<string, number | string>, Record<string, unknown>][];
  readonly options: { readonly timestamps?: unknown; readonly versionKey?: unknown };
}
interface SchemaTypeLike {
  readonly instance?: string;
  readonly options: Record<string, unknown>;
  readonly isRequired?: boolean;
  readonly enumValues?: readonly (string | number)[];
  readonly schema?: SchemaLike;
  readonly $isMongooseDocumentArray?: boolean;
  readonly $isSingleNested?: boolean;
  readonly embeddedSchemaType?: SchemaTypeLike;
  readonly caster?: SchemaTypeLike;
  readonly $__schemaType?: SchemaTypeLike;
}

function serialiseModel(name: string, model: ModelLike): ModelSchema {
  const { schema } = model;
  const timestamps = timestampPaths(schema.options.timestamps);
  const versionKey =
    schema.options.versionKey === false ? undefined : String(schema.options.versionKey ?? '__v');
  const fields: ModelField[] = [];
  serialiseSchema(schema, [], fields, timestamps);
  const indexes: ModelIndex[] = schema.indexes().map(([key, options]) => ({
    key: { ...key },
    options: jsonSafe(options) as Record<string, unknown>,
  }));
  return {
    name,
    collection: model.collection.collectionName,
    fields,
    indexes,
    ...(timestamps ? { timestamps } : {}),
    ...(versionKey === undefined ? {} : { versionKey }),
  };
}

function timestampPaths(option: unknown): { createdAt?: string; updatedAt?: string } | undefined {
  if (option === true) return { createdAt: 'createdAt', updatedAt: 'updatedAt' };
  if (option === null || typeof option !== 'object') return undefined;
  const o = option as { createdAt?: unknown; updatedAt?: unknown };
  const pick = (value: unknown, fallback: string) =>
    value === false ? undefined : typeof value === 'string' ? value : fallback;
  const createdAt = pick(o.createdAt, 'createdAt');
  const updatedAt = pick(o.updatedAt, 'updatedAt');
  return {
    ...(createdAt ? { createdAt } : {}),
    ...(updatedAt ? { updatedAt } : {}),
  };
}

function serialiseSchema(
  schema: SchemaLike,
  prefix: readonly string[],
  out: ModelField[],
  timestamps?: { createdAt?: string; updatedAt?: string },
): void {
  schema.eachPath((dotted, type) => {
    const keys = dotted.split('.');
    if (keys.includes('$*')) return; // a Map's value type, described on the Map itself
    const path = [...prefix, ...keys];
    const field = describe(type, path, prefix);
    const stamp =
      timestamps?.createdAt === dotted
        ? 'createdAt'
        : timestamps?.updatedAt === dotted
          ? 'updatedAt'
          : undefined;
    out.push(stamp ? { ...field, timestamp: stamp } : field);
    if (type.$isMongooseDocumentArray && type.schema) serialiseSchema(type.schema, [...path, '[]'], out);
    else if (type.$isSingleNested && type.schema) serialiseSchema(type.schema, path, out);
  });
}

function describe(type: SchemaTypeLike, path: readonly string[], prefix: readonly string[]): ModelField {
  const o = type.options;
  const instance = type.$isSingleNested ? 'Subdocument' : (type.instance ?? 'Mixed');
  const element = type.embeddedSchemaType ?? type.caster;
  const of =
    instance === 'Map'
      ? (type.$__schemaType?.instance ?? 'Mixed')
      : instance === 'Array'
        ? type.$isMongooseDocumentArray
          ? 'Subdocument'
          : (element?.instance ?? 'Mixed')
        : undefined;
  const own = instance === 'Array' && element ? element : type;
  const values = enumOf(own);
  const ref = typeof own.options.ref === 'string' ? own.options.ref : undefined;
  const refPath = typeof own.options.refPath === 'string' ? own.options.refPath : undefined;
  const expires = expiresSeconds(o.expires);
  return {
    path,
    type: instance,
    ...(of === undefined ? {} : { of }),
    ...(type.isRequired === true && typeof o.required !== 'function' ? { required: true } : {}),
    ...(values ? { enum: values } : {}),
    ...(ref ? { ref } : {}),
    ...(refPath ? { refPath: [...prefix, ...refPath.split('.')] } : {}),
    ...(o.default === undefined ? {} : { default: describeDefault(o.default) }),
    ...(o.index === true ? { index: true } : {}),
    ...(o.unique === true ? { unique: true } : {}),
    ...(o.sparse === true ? { sparse: true } : {}),
    ...(expires === undefined ? {} : { expires }),
  };
}

function enumOf(type: SchemaTypeLike): (string | number)[] | undefined {
  if (type.enumValues && type.enumValues.length > 0) return [...type.enumValues];
  const raw = type.options.enum;
  const list = Array.isArray(raw)
    ? raw
    : raw && typeof raw === 'object' && Array.isArray((raw as { values?: unknown }).values)
      ? (raw as { values: unknown[] }).values
      : raw && typeof raw === 'object'
        ? Object.values(raw)
        : [];
  const kept = list.filter((v): v is string | number => typeof v === 'string' || typeof v === 'number');
  return kept.length > 0 ? kept : undefined;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_557_600 };

/** `expires` in seconds: a number, or a duration such as `'30d'` (Mongoose reads it with `ms`). */
function expiresSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhdwy]?)\s*$/i.exec(value);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * (UNITS[(match[2] || 's').toLowerCase()] ?? 1));
}

function describeDefault(value: unknown): string {
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function jsonSafe(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? {}));
}
