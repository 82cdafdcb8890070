import { stat } from 'node:fs/promises';
import type { ErrorLocation } from '../../core/errors.js';
import type { RawRecord } from '../ejson/raw-records.js';
import { batchRecords } from '../ejson/record-batches.js';
import { streamRecords } from '../ejson/record-stream.js';
import { type RecordResult, recordToDocument } from '../ejson/record-to-document.js';
import type { ReadOptions, SourceBatch, SourceReject } from '../types.js';
import { parseExactJson } from './exact-integers.js';
import { formatJsonPointer } from './json-pointer.js';
import { plainRecordToFrame } from './plain-record-to-frame.js';
import { type PlainIdRule, plainIdOf, plainRecordsToDocs } from './plain-records.js';

/** A plain JSON file whose records are one top-level array, read as a stream. */
export interface PlainArrayFile {
  readonly file: string;
  readonly collection: string;
  readonly maxRecordBytes: number;
}

/**
 * The records of a plain JSON file that is one top-level array, streamed one record at a
 * time (`streamRecords`), so memory stays bounded whatever the file's size: parsing such a
 * file whole held every record at once (810 MB for 50k sales) and slowed with its size, as
 * the collector walked the whole parsed tree again and again. The records become documents by
 * the same id rule as a file parsed whole (`plainRecordsToDocs`). A record that does not parse
 * is a reject naming its line, byte offset and JSON pointer; the others still load.
 *
 * The id rule asks whether any record of the array has an id (`someHaveIds`); the caller
 * answers it once per file with {@link arrayHasIds}.
 *
 * Resume positions are `{ kind: 'offset', offset, index }` (the byte after the last record,
 * and the records before it: positions give id-less records their `_id`). A position with
 * offset 0 and an index, as the whole-file reading wrote them, skips that many records.
 *
 * @example
 * const file = { file: 'users.json', collection: 'users', maxRecordBytes: 64 << 20 };
 * const someHaveIds = await arrayHasIds(file, {});
 * for await (const batch of readPlainArray(file, {}, someHaveIds, { batchSize: 1000 })) console.log(batch.docs.length);
 */
export async function* readPlainArray(
  target: PlainArrayFile,
  rule: PlainIdRule,
  someHaveIds: boolean,
  options: ReadOptions,
): AsyncGenerator<SourceBatch> {
  const after = options.after?.kind === 'offset' ? options.after : { offset: 0, index: 0 };
  const context = { file: target.file, collection: target.collection };
  const skip = after.offset === 0 ? after.index : 0;
  const records = skipRecords(
    streamRecords(context, after.offset, target.maxRecordBytes, options.signal),
    skip,
  );
  const decode = (record: RawRecord, index: number): RecordResult => {
    const path = formatJsonPointer([String(index)]);
    const parsed = recordToDocument(record, { ...context, parse: parseExactJson });
    if ('reject' in parsed) return { reject: at(parsed.reject, { path }) };
    const [result] = plainRecordsToDocs(
      [{ value: parsed.doc, position: index, path }],
      rule,
      context,
      someHaveIds,
    );
    if (result === undefined || 'doc' in result) return result!;
    return { reject: at(result.reject, { line: record.line, offset: record.offset }) };
  };
  // A raw read takes the records it can straight to BSON, the others through documents.
  const convert = options.raw
    ? (record: RawRecord, index: number) =>
        plainRecordToFrame(record, index, rule, someHaveIds) ?? decode(record, index)
    : decode;
  yield* batchRecords(records, convert, { ...context, start: after, options });
}

/**
 * Whether any record of the array has an id of its own (`plainIdOf`), read once per file
 * version (size and modification time) and remembered in `cache`. It stops at the first
 * record with an id, so a file of records with ids pays for one record; only a file without
 * any is read through, and then loads with positions as ids. With an `idField`, id-less
 * records are rejects whatever the others hold, so nothing is read.
 *
 * @example
 * const cache = new Map<string, boolean>();
 * await arrayHasIds({ file: 'users.json', collection: 'users', maxRecordBytes: 64 << 20 }, {}, cache);
 */
export async function arrayHasIds(
  target: PlainArrayFile,
  rule: PlainIdRule,
  cache: Map<string, boolean> = new Map(),
): Promise<boolean> {
  if (rule.idField !== undefined) return false;
  const info = await stat(target.file);
  const key = `${target.file}\u0000${info.size}:${info.mtimeMs}`;
  const known = cache.get(key);
  if (known !== undefined) return known;
  let found = false;
  scan: for await (const records of streamRecords(target, 0, target.maxRecordBytes)) {
    for (const record of records) {
      let value: unknown;
      try {
        value = parseExactJson(record.bytes.toString('utf8'));
      } catch {
        continue; // a reject when read; it has no id to count
      }
      // Any position: it only marks the record as an array's (where an `id` field counts).
      if (plainIdOf({ value, position: 0, path: '' }, rule) !== undefined) {
        found = true;
        break scan;
      }
    }
  }
  cache.set(key, found);
  return found;
}

function at(reject: SourceReject, where: Partial<ErrorLocation>): SourceReject {
  return { ...reject, where: { ...reject.where, ...where } };
}

async function* skipRecords(records: AsyncIterable<RawRecord[]>, count: number): AsyncGenerator<RawRecord[]> {
  let left = count;
  for await (const chunk of records) {
    if (left >= chunk.length) {
      left -= chunk.length;
      continue;
    }
    yield left > 0 ? chunk.slice(left) : chunk;
    left = 0;
  }
}
