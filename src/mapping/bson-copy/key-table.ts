/**
 * An object node's known keys, found by their bytes: the walk looks each BSON key up here
 * without first building a JS string for it (most keys of most documents are known ones).
 */
export interface KeyEntry<T> {
  readonly name: string;
  readonly value: T;
  readonly bytes: Buffer;
}

export class KeyTable<T> {
  readonly #buckets = new Map<number, KeyEntry<T>[]>();
  /** The entry met at each position of the last object walked: documents mostly repeat their key order. */
  readonly #lastOrder: (KeyEntry<T> | undefined)[] = [];

  constructor(entries: Iterable<readonly [string, T]>) {
    for (const [name, value] of entries) {
      const bytes = Buffer.from(name, 'utf8');
      const hash = hashBytes(bytes, 0, bytes.length);
      this.#buckets.set(hash, [...(this.#buckets.get(hash) ?? []), { name, value, bytes }]);
    }
  }

  /**
   * The entry whose key is exactly bytes `[start, end)`, if any; `position` is the key's index
   * in its object, so the entry seen there last time is tried before hashing.
   */
  find(bytes: Buffer, start: number, end: number, position: number): KeyEntry<T> | undefined {
    const guess = this.#lastOrder[position];
    if (guess !== undefined && sameBytes(guess.bytes, bytes, start, end)) return guess;
    const found = this.#lookup(bytes, start, end);
    if (found !== undefined && position < 256) this.#lastOrder[position] = found;
    return found;
  }

  #lookup(bytes: Buffer, start: number, end: number): KeyEntry<T> | undefined {
    const bucket = this.#buckets.get(hashBytes(bytes, start, end));
    if (bucket === undefined) return undefined;
    for (const entry of bucket) if (sameBytes(entry.bytes, bytes, start, end)) return entry;
    return undefined;
  }
}

function sameBytes(key: Buffer, bytes: Buffer, start: number, end: number): boolean {
  const length = end - start;
  if (key.length !== length) return false;
  for (let i = 0; i < length; i++) if (key[i] !== bytes[start + i]) return false;
  return true;
}

function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = end - start;
  for (let i = start; i < end; i++) hash = (Math.imul(hash, 31) + bytes[i]!) | 0;
  return hash;
}
