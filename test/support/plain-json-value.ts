import { Decimal128, Double, Int32, Long, ObjectId } from 'bson';

/**
 * A BSON document's values as an application would keep them in a plain JSON file: ObjectIds
 * and Decimal128 as strings, dates as ISO strings, numbers as JSON numbers. Used to write the
 * same documents as plain JSON for the tests and the benchmark that compare source paths.
 *
 * @example
 * JSON.stringify(plainJsonValue({ _id: new ObjectId(), at: new Date(0) })); // '{"_id":"…","at":"1970-01-01T00:00:00.000Z"}'
 */
export function plainJsonValue(value: unknown): unknown {
  if (value instanceof ObjectId || value instanceof Decimal128) return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plainJsonValue);
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainJsonValue(v)]));
  }
  if (value instanceof Int32 || value instanceof Double) return value.valueOf();
  if (value instanceof Long) return value.toNumber();
  return value;
}
