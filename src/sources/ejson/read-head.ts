import { openInput } from '../files/open-input.js';

/**
 * The first `bytes` decompressed bytes of a file (fewer if it is shorter), for sniffing
 * its layout without reading it all.
 *
 * @example
 * const head = await readHead('users.json.gz', 4096);
 */
export async function readHead(file: string, bytes: number): Promise<Buffer> {
  const { stream } = await openInput(file);
  const pieces: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      pieces.push(chunk);
      length += chunk.length;
      if (length >= bytes) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(pieces, length).subarray(0, bytes);
}

/** How records are laid out in an export: one per line, or one top-level JSON array. */
export type ExportLayout = 'lines' | 'array';

/**
 * `array` when the first character after whitespace (and a byte order mark) is `[`,
 * as `mongoexport --jsonArray` writes; otherwise `lines`.
 *
 * @example
 * layoutOf(Buffer.from('  [{"a":1}]')); // 'array'
 */
export function layoutOf(head: Buffer): ExportLayout {
  let i = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  while (i < head.length && (head[i] === 32 || head[i] === 9 || head[i] === 10 || head[i] === 13)) i++;
  return head[i] === 91 ? 'array' : 'lines';
}
