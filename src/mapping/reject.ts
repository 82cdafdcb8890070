/**
 * Why a document cannot be loaded. Stable codes (scripts and `ferry.rejects` match on them):
 * - `NOT_A_DOCUMENT`: the value handed to `toRows` is not a plain object.
 * - `ID_MISSING` / `ID_TYPE_MISMATCH`: `_id` is absent, or not of the id column's type (the
 *   primary key cannot fall back to `_extra`).
 * - `REQUIRED_VALUE_MISSING`: a non-nullable column has no value of its type for this document.
 * - `STRING_CONTAINS_NUL`: a string holds U+0000, which neither `text` nor `jsonb` can store.
 * - `STRING_INVALID_UNICODE`: a string holds a lone UTF-16 surrogate; UTF-8 (PostgreSQL's
 *   encoding) cannot represent it, and the driver would replace it silently.
 * - `KEY_INVALID`: a key holds NUL or a lone surrogate, for the same reasons.
 * - `DATE_OUT_OF_RANGE`: a date before 4714-11-24 BC (PostgreSQL's first timestamptz), or an
 *   invalid date; it is never shifted into range.
 * - `UNSUPPORTED_VALUE`: a value no BSON document can hold (a function, a Map, a class instance).
 * - `TRANSFORM_FAILED`: a user transform threw, or returned a value its column cannot hold.
 * - `TRANSFORM_NOT_REVERSIBLE`: `fromColumn(toColumn(v))` is not canonically equal to `v`.
 *
 * @example
 * import type { Document } from 'bson';
 * declare const plan: Plan;
 * declare const doc: Document;
 * const result = toRows(plan, 'users', doc);
 * if (!result.ok && result.reject.code === 'STRING_CONTAINS_NUL') console.log(result.reject.path);
 */
export type RejectCode =
  | 'NOT_A_DOCUMENT'
  | 'ID_MISSING'
  | 'ID_TYPE_MISMATCH'
  | 'REQUIRED_VALUE_MISSING'
  | 'STRING_CONTAINS_NUL'
  | 'STRING_INVALID_UNICODE'
  | 'KEY_INVALID'
  | 'DATE_OUT_OF_RANGE'
  | 'UNSUPPORTED_VALUE'
  | 'TRANSFORM_FAILED'
  | 'TRANSFORM_NOT_REVERSIBLE';

/**
 * A document `toRows` refuses, with the place and the reason. `path` is dotted from the
 * document root with array indexes (`items.3.name`), `''` for the document itself.
 *
 * @example
 * const reject: MappingReject = {
 *   code: 'STRING_CONTAINS_NUL',
 *   path: 'profile.bio',
 *   reason: 'string contains NUL (U+0000) at offset 4; PostgreSQL text cannot store it',
 * };
 */
export interface MappingReject {
  readonly code: RejectCode;
  readonly reason: string;
  readonly path: string;
}

/**
 * Thrown inside the mapping and caught at its edge, so deep helpers can stop a document
 * without threading a result through every call. Never escapes `toRows`.
 */
export class RejectSignal {
  constructor(readonly reject: MappingReject) {}
}

/** Stop mapping this document. */
export function rejectAt(code: RejectCode, path: readonly (string | number)[], reason: string): never {
  throw new RejectSignal({ code, path: path.join('.'), reason });
}

/** U+0000, or a UTF-16 surrogate not part of a pair, in a string bound for PostgreSQL. */
const UNSTORABLE = /[\u0000\p{Cs}]/u;

/**
 * Reject a string PostgreSQL cannot store unchanged. The check is one regex test in the
 * common case; the detail is worked out only for the rare bad string.
 */
export function checkString(value: string, path: readonly (string | number)[]): void {
  if (!UNSTORABLE.test(value)) return;
  const nul = value.indexOf('\u0000');
  if (nul >= 0)
    rejectAt(
      'STRING_CONTAINS_NUL',
      path,
      `string contains NUL (U+0000) at offset ${nul}; PostgreSQL text and jsonb cannot store it`,
    );
  rejectAt(
    'STRING_INVALID_UNICODE',
    path,
    'string contains a lone UTF-16 surrogate; it has no UTF-8 form, so PostgreSQL cannot store it',
  );
}

/** Reject a key PostgreSQL cannot store unchanged (in `jsonb` or a map child's `key` column). */
export function checkKey(key: string, path: readonly (string | number)[]): void {
  if (!UNSTORABLE.test(key)) return;
  rejectAt(
    'KEY_INVALID',
    [...path, key],
    'key contains NUL or a lone UTF-16 surrogate; PostgreSQL cannot store it',
  );
}
