import type { CollectionSnapshot, FieldSnapshot } from './snapshot.js';

/**
 * When inference proposes `appendOnly` for a collection. A wrong "yes" makes PostgreSQL refuse
 * the application's updates, a wrong "no" costs nothing (the reviewer can still add the
 * flag), so every sign must agree before it is proposed:
 *
 * 1. the name says the documents record things that happened: one of its words (camelCase,
 *    snake_case and kebab-case split) is ledger, journal, audit, event, log, history,
 *    transaction, posting, entry or movement (singular or plural);
 * 2. every document has a creation date: a top-level `createdAt`, `created_at`, `created`,
 *    `postedAt`, `posted_at`, `occurredAt`, `recordedAt` or `timestamp` that is always a Date;
 * 3. no document has an update date (`updatedAt`, `updated_at`, `modifiedAt`, `modified_at`,
 *    `lastModified`, `editedAt`, `deletedAt`): Mongoose's `timestamps` and most hand-rolled
 *    schemas set one as soon as a document is ever changed;
 * 4. Mongoose's version key `__v`, when present, is 0 in every document: it grows when an
 *    array of the document is changed, so anything above 0 is a document that was edited.
 *
 * The marketplace's `ledger` (double-entry postings with `createdAt` and `__v: 0`) passes;
 * `payments` (an `updatedAt`) and `notifications` (not a ledger-like name, and an
 * `updatedAt`) do not.
 */

/** Why a collection was (or was not) proposed as append-only. */
export interface AppendOnlyVerdict {
  readonly appendOnly: boolean;
  /** What was seen, for the report: `createdAt in 200/200 documents, no update date, __v always 0`. */
  readonly evidence: string;
}

const EVENT_WORDS = new Set(
  [
    'ledger',
    'journal',
    'audit',
    'event',
    'log',
    'history',
    'transaction',
    'posting',
    'entry',
    'movement',
  ].flatMap((w) => [w, `${w}s`, w.replace(/y$/, 'ies')]),
);
const CREATED_FIELDS = [
  'createdAt',
  'created_at',
  'created',
  'postedAt',
  'posted_at',
  'occurredAt',
  'recordedAt',
  'timestamp',
];
const UPDATED_FIELDS = [
  'updatedAt',
  'updated_at',
  'modifiedAt',
  'modified_at',
  'lastModified',
  'editedAt',
  'deletedAt',
];

/**
 * Whether the statistics of one collection suggest a ledger (see the rules above).
 *
 * @example
 * declare const snapshot: InferenceSnapshot;
 * const ledger = snapshot.collections.find((c) => c.name === 'ledger')!;
 * appendOnlyVerdict(ledger);   // { appendOnly: true, evidence: 'name "ledger"; createdAt in 200/200 …' }
 */
export function appendOnlyVerdict(collection: CollectionSnapshot): AppendOnlyVerdict {
  const no = (evidence: string): AppendOnlyVerdict => ({ appendOnly: false, evidence });
  const words = collection.name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  const word = words.find((w) => EVENT_WORDS.has(w));
  if (word === undefined) return no(`name "${collection.name}" does not name a record of events`);
  if (collection.documents === 0) return no('no documents');
  const top = (name: string): FieldSnapshot | undefined =>
    collection.fields.find((f) => f.path.length === 1 && f.path[0] === name);
  const created = CREATED_FIELDS.map(top).find(
    (f) => f !== undefined && f.present === collection.documents && f.types.date === f.present,
  );
  if (created === undefined) return no('no creation date in every document');
  const updated = UPDATED_FIELDS.map(top).find((f) => f !== undefined && f.present > 0);
  if (updated !== undefined) return no(`${updated.name} in ${updated.present} document(s): they are updated`);
  const version = top('__v');
  const neverEdited = version === undefined || (version.numbers?.min === '0' && version.numbers.max === '0');
  if (!neverEdited) return no('__v above 0: documents were edited');
  return {
    appendOnly: true,
    evidence: `name "${collection.name}"; ${created.name} in ${created.present}/${collection.documents} document(s); no update date${version === undefined ? '' : '; __v always 0'}`,
  };
}
