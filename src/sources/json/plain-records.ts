import type { Document } from 'bson';
import { jsonNumberToBson, UnsafeIntegerError } from '../ejson/parse-extended-json.js';
import { describeId } from '../ejson/record-to-document.js';
import type { SourceReject } from '../types.js';
import { exactInteger, IntegerTooLongError } from './exact-integers.js';
import { formatJsonPointer, parseJsonPointer } from './json-pointer.js';

/** How plain JSON records get their `_id`. */
export interface PlainIdRule {
  /** A field holding each record's id; its value moves to `_id`. */
  readonly idField?: string;
}

/** One record with its place in the file, before conversion. */
export interface PlainRecord {
  readonly value: unknown;
  /** Map key, when the record came from a map of records. */
  readonly key?: string;
  /** Array index, when it came from an array. */
  readonly position?: number;
  readonly path: string;
}

export type PlainResult = { readonly doc: Document } | { readonly reject: SourceReject };

/**
 * The id the rule gives a record, before conversion, or undefined when it has none of its own
 * (steps 1, 2 and 4 of `plainRecordsToDocs`; a map key and a position are not the record's).
 *
 * @example
 * plainIdOf({ value: { id: 'u1' }, position: 0, path: '/0' }, {}); // 'u1'
 */
export function plainIdOf(record: PlainRecord, rule: PlainIdRule): unknown {
  const { value } = record;
  if (!isObject(value)) return undefined;
  if (rule.idField !== undefined && value[rule.idField] !== undefined) return value[rule.idField];
  return value._id ?? (record.position !== undefined && rule.idField === undefined ? value.id : undefined);
}

/**
 * The records of an array or a map, in file order, each with its JSON pointer path.
 *
 * @example
 * listPlainRecords({ u1: { name: 'Ada' } }, '/users'); // [{ value: { name: 'Ada' }, key: 'u1', path: '/users/u1' }]
 */
export function listPlainRecords(container: unknown, pointer: string): PlainRecord[] {
  const base = parseJsonPointer(pointer);
  if (Array.isArray(container)) {
    return container.map((value, position) => ({
      value,
      position,
      path: formatJsonPointer([...base, String(position)]),
    }));
  }
  return Object.entries(container as Record<string, unknown>).map(([key, value]) => ({
    value,
    key,
    path: formatJsonPointer([...base, key]),
  }));
}

/**
 * Turn plain JSON records into documents, applying the id rule (README of this folder):
 *
 * 1. `idField` set and present in the record → its value becomes `_id` (moved, not copied,
 *    so the table does not hold the id twice).
 * 2. Else the record's own `_id`.
 * 3. Else, in a map of records, the map key (a string). A record whose `_id` disagrees with
 *    its key is rejected (`SOURCE_JSON_ID_CONFLICT`): either choice would drop one of them.
 * 4. Else, in an array, the record's `id` field (moved to `_id`), unless `idField` names another:
 *    that is how JSON files usually name the id.
 * 5. Else, in an array where no record has an id, the record's 0-based position as Int32:
 *    deterministic for the same file, so resume and verify agree, and visible in the target.
 *    If some records of the array have ids and others do not, or an `idField` is configured,
 *    the id-less ones are rejected (`SOURCE_JSON_NO_ID`): positions could collide with the
 *    real ids, and a configured field that is missing is more likely a typo than intent.
 *
 * Numbers become Int32/Long/Double as in canonical Extended JSON; integers beyond ±2^53 are
 * read exactly from the text (Long, beyond int64 Decimal128); only one longer than 34 digits
 * is rejected, as `SOURCE_UNSAFE_INTEGER`.
 *
 * @example
 * const context = { file: 'users.json', collection: 'users' };
 * plainRecordsToDocs([{ value: { id: 'u1' }, path: '[0]' }], { idField: 'id' }, context); // [{ doc: { _id: 'u1' } }]
 */
export function plainRecordsToDocs(
  records: readonly PlainRecord[],
  rule: PlainIdRule,
  context: { readonly file: string; readonly collection: string },
  /** Whether any record of the array has an id, when the caller knows (a streamed array). */
  someHaveIds = records.some((r) => r.position !== undefined && plainIdOf(r, rule) !== undefined),
): PlainResult[] {
  return records.map((record): PlainResult => {
    const reject = (code: string, reason: string, id?: unknown): PlainResult => ({
      reject: {
        collection: context.collection,
        ...(id === undefined ? {} : { id }),
        raw: JSON.stringify(record.value) ?? String(record.value),
        code,
        reason,
        where: {
          file: context.file,
          collection: context.collection,
          path: record.path,
          ...(id === undefined ? {} : { id: describeId(id) }),
        },
      },
    });
    if (!isObject(record.value)) {
      return reject('SOURCE_NOT_A_DOCUMENT', `expected a JSON object, found ${kindOf(record.value)}`);
    }
    const value = record.value;
    const choice = chooseId(record, value, rule, someHaveIds);
    if ('code' in choice) return reject(choice.code, choice.reason, choice.id);
    const { id, idKeys } = choice;
    try {
      return { doc: documentOf(convertNumbers(id), value, idKeys) };
    } catch (error) {
      if (error instanceof UnsafeIntegerError || error instanceof IntegerTooLongError)
        return reject('SOURCE_UNSAFE_INTEGER', error.message);
      throw error;
    }
  });
}

const ID_KEYS = ['_id'];
const ID_AND_ID_FIELD_KEYS = ['_id', 'id'];

/** A record's id and the keys it came from (they move to `_id`, so the body leaves them out). */
export type IdChoice =
  | { readonly id: unknown; readonly idKeys: readonly string[] }
  | { readonly code: string; readonly reason: string; readonly id?: unknown };

/**
 * Steps 1-5 of the id rule of `plainRecordsToDocs` for one record that is an object: its id
 * and the keys that held it, or the reject's code and reason. Shared with the raw path's
 * writer (`plainRecordToFrame`), so both give every record the same `_id`.
 *
 * @example
 * chooseId({ value: { id: 'u1' }, position: 0, path: '/0' }, { id: 'u1' }, {}, true); // { id: 'u1', idKeys: ['_id', 'id'] }
 */
export function chooseId(
  record: PlainRecord,
  value: Record<string, unknown>,
  rule: PlainIdRule,
  someHaveIds: boolean,
): IdChoice {
  if (rule.idField !== undefined) {
    const fieldId = value[rule.idField];
    if (fieldId !== undefined) return { id: fieldId, idKeys: [rule.idField] };
  }
  const ownId = value._id;
  if (ownId !== undefined) {
    if (record.key !== undefined && String(ownId) !== record.key) {
      return {
        code: 'SOURCE_JSON_ID_CONFLICT',
        reason: `record under key ${JSON.stringify(record.key)} has a different _id ${JSON.stringify(ownId)}`,
        id: record.key,
      };
    }
    return { id: ownId, idKeys: ID_KEYS };
  }
  if (record.key !== undefined) return { id: record.key, idKeys: ID_KEYS };
  // An array of records with an `id` field: that is their id (moved, as with idField).
  if (rule.idField === undefined && value.id !== undefined)
    return { id: value.id, idKeys: ID_AND_ID_FIELD_KEYS };
  if (someHaveIds || rule.idField !== undefined) {
    const field = rule.idField ?? '_id';
    return {
      code: 'SOURCE_JSON_NO_ID',
      reason:
        rule.idField !== undefined
          ? `record has no "${field}" field (the configured idField)`
          : `record has no "${field}" while other records in this array do`,
    };
  }
  return { id: record.position, idKeys: ID_KEYS };
}

/**
 * `{ _id: id, ...body }` with the body's numbers converted, where the body is the record
 * without `idKeys`: built in one object, since copying each record twice more (once per
 * `...rest`) showed up as collector time on large arrays. As with a spread, a body key that
 * is `_id` again (a record with both `_id` and the configured `idField`) overwrites the value
 * in the first place, and `__proto__` stays an own key.
 */
function documentOf(id: unknown, record: Record<string, unknown>, idKeys: readonly string[]): Document {
  const doc: Document = { _id: id };
  for (const key in record) {
    if (idKeys.includes(key)) continue;
    const value = convertNumbers(record[key]);
    if (key === '__proto__')
      Object.defineProperty(doc, key, { value, enumerable: true, writable: true, configurable: true });
    else doc[key] = value;
  }
  return doc;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  return Array.isArray(v) ? 'an array' : `a ${typeof v}`;
}

/**
 * Plain numbers → Int32/Long/Double, and integers beyond ±2^53 (marked before parsing, see
 * exact-integers.ts) → exact Long/Decimal128, in place (the value is a fresh JSON.parse result).
 */
function convertNumbers(value: unknown): unknown {
  if (typeof value === 'number') return jsonNumberToBson(value, true);
  if (typeof value === 'string') return exactInteger(value) ?? value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = convertNumbers(value[i]);
  } else if (isObject(value)) {
    for (const key in value) value[key] = convertNumbers(value[key]);
  }
  return value;
}
