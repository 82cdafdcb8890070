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

  constructor(entries: Iterable<readonly [string, T]>) {
    for (const [name, value] of entries) {
      const bytes = Buffer.from(name, 'utf8');
      const hash = hashBytes(bytes, 0, bytes.length);
      this.#buckets.set(hash, [...(this.#buckets.get(hash) ?? []), { name, value, bytes }]);
    }
  }

  /** The entry whose key is exactly bytes `[start, end)`, if any. */
  find(bytes: Buffer, start: number, end: number): KeyEntry<T> | undefined {
    const bucket = this.#buckets.get(hashBytes(bytes, start, end));
    if (bucket === undefined) return undefined;
    const length = end - start;
    for (const entry of bucket) {
      if (entry.bytes.length !== length) continue;
      let i = 0;
      while (i < length && entry.bytes[i] === bytes[start + i]) i++;
      if (i === length) return entry;
    }
    return undefined;
  }
}

function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = end - start;
  for (let i = start; i < end; i++) hash = (Math.imul(hash, 31) + bytes[i]!) | 0;
  return hash;
}
