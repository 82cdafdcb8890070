import { COPY_BINARY_HEADER, COPY_BINARY_TRAILER } from '../copy/copy-binary.js';
import { encodeCopyLine } from '../copy/copy-text.js';
import { quoteIdent } from '../mapping/model.js';
import type { CopyRows, CopyText, TableRef } from './target-database.js';
import { TargetError, tableLabel } from './target-error.js';

/**
 * The pieces both targets' `copyFrom` share: the COPY statement and the encoded text, handed
 * over in pieces of about `pieceChars` characters. Pieces rather than lines because a write
 * per line costs more than encoding it; pieces rather than the whole batch so memory stays
 * bounded by the piece, whatever the batch size.
 */

/**
 * `COPY "schema"."table" ("a", "b") FROM <source>` in text format.
 *
 * @example
 * copyStatement({ schema: 'public', name: 'orders' }, ['id', 'total'], 'STDIN')
 * // 'COPY "public"."orders" ("id", "total") FROM STDIN'
 */
export function copyStatement(
  table: TableRef,
  columns: readonly string[],
  source: string,
  format: 'text' | 'binary' = 'text',
): string {
  if (columns.length === 0) throw new Error(`COPY into ${tableLabel(table)} needs at least one column`);
  const options = format === 'binary' ? ' (FORMAT binary)' : '';
  return `COPY ${quoteIdent(table.schema)}.${quoteIdent(table.name)} (${columns.map(quoteIdent).join(', ')}) FROM ${source}${options}`;
}

/** Binary rows framed as a whole COPY input: header, the rows, trailer. */
export async function* framedBinary(pieces: CopyText): AsyncGenerator<string | Uint8Array> {
  yield COPY_BINARY_HEADER;
  yield* pieces;
  yield COPY_BINARY_TRAILER;
}

/** Counts the rows a copy has encoded so far, so an error can say how far it got. */
export interface CopyProgress {
  rows: number;
}

/**
 * The rows as COPY text in pieces of at least `pieceChars` characters (the last may be
 * shorter), never splitting a line. `progress.rows` counts the lines encoded.
 *
 * @example
 * declare const table: TableRef;
 * declare const progress: CopyProgress;
 * for await (const piece of encodeCopyPieces(table, ['id'], [[{ id: 1 }, { id: 2 }]], progress)) console.log(piece);
 * // '1\n2\n'
 */
export async function* encodeCopyPieces(
  table: TableRef,
  columns: readonly string[],
  rows: CopyRows,
  progress: CopyProgress,
  pieceChars = 64 * 1024,
  signal?: AbortSignal,
): AsyncGenerator<string> {
  let piece = '';
  for await (const batch of rows) {
    signal?.throwIfAborted();
    for (const row of batch) {
      try {
        piece += encodeCopyLine(row, columns);
      } catch (cause) {
        // A row without a column is a bug in whatever built it; say which row and table.
        throw new TargetError(`cannot COPY into ${tableLabel(table)}: ${(cause as Error).message}`, {
          code: 'TARGET_COPY_BAD_ROW',
          category: 'internal',
          table,
          line: progress.rows + 1,
          cause,
        });
      }
      progress.rows++;
      if (piece.length >= pieceChars) {
        yield piece;
        piece = '';
      }
    }
  }
  if (piece.length > 0) yield piece;
}
