import { Long } from 'bson';

/**
 * CRC-64 with the ECMA-182 polynomial in reflected form, initial value and final XOR all
 * ones: exactly Go's `crc64.New(crc64.MakeTable(crc64.ECMA))`, which mongodump uses for the
 * `CRC` field of a collection's EOF header (the sum over every document's bytes of that
 * collection, in archive order). Verified against a real mongodump 100.5.3 archive.
 *
 * Kept as two 32-bit halves so each byte costs a few integer operations instead of BigInt
 * arithmetic (~20x faster), which makes checking every archive essentially free.
 *
 * @example
 * declare const docBytes: Buffer;
 * import type { Long } from 'bson';
 * declare const header: { readonly CRC: Long }; // the collection's header in the archive
 * const crc = new Crc64();
 * crc.update(docBytes);
 * crc.digest().equals(header.CRC);
 */
export class Crc64 {
  #hi = 0xffffffff;
  #lo = 0xffffffff;

  update(bytes: Uint8Array): void {
    let hi = this.#hi;
    let lo = this.#lo;
    let i = 0;
    // Slicing-by-8: eight bytes per step through eight tables instead of one byte per step;
    // about 4x faster, which matters because every archive byte passes through here.
    for (const end = bytes.length - 7; i < end; i += 8) {
      const a = lo ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
      const b = hi ^ (bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24));
      const k0 = 7 * 256 + (a & 0xff);
      const k1 = 6 * 256 + ((a >>> 8) & 0xff);
      const k2 = 5 * 256 + ((a >>> 16) & 0xff);
      const k3 = 4 * 256 + (a >>> 24);
      const k4 = 3 * 256 + (b & 0xff);
      const k5 = 2 * 256 + ((b >>> 8) & 0xff);
      const k6 = 256 + ((b >>> 16) & 0xff);
      const k7 = b >>> 24;
      lo =
        SLICE_LO[k0]! ^
        SLICE_LO[k1]! ^
        SLICE_LO[k2]! ^
        SLICE_LO[k3]! ^
        SLICE_LO[k4]! ^
        SLICE_LO[k5]! ^
        SLICE_LO[k6]! ^
        SLICE_LO[k7]!;
      hi =
        SLICE_HI[k0]! ^
        SLICE_HI[k1]! ^
        SLICE_HI[k2]! ^
        SLICE_HI[k3]! ^
        SLICE_HI[k4]! ^
        SLICE_HI[k5]! ^
        SLICE_HI[k6]! ^
        SLICE_HI[k7]!;
    }
    for (; i < bytes.length; i++) {
      const index = (lo ^ bytes[i]!) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ SLICE_LO[index]!;
      hi = (hi >>> 8) ^ SLICE_HI[index]!;
    }
    this.#hi = hi >>> 0;
    this.#lo = lo >>> 0;
  }

  /**
   * The running state, so a writer that stops part-way (an export killed and resumed) can
   * carry on the same checksum from where its last checkpoint left it.
   *
   * @example
   * declare const crc: Crc64;
   * const saved = crc.state; // [hi, lo]
   * Crc64.resume(saved).digest().equals(crc.digest()); // true
   */
  get state(): readonly [number, number] {
    return [this.#hi, this.#lo];
  }

  /** A checksum continuing from a saved {@link Crc64.state}. */
  static resume(state: readonly [number, number]): Crc64 {
    const crc = new Crc64();
    crc.#hi = state[0] >>> 0;
    crc.#lo = state[1] >>> 0;
    return crc;
  }

  /** The checksum as the signed Int64 mongodump stores. */
  digest(): Long {
    return Long.fromBits(~this.#lo, ~this.#hi, false);
  }
}

const POLY = 0xc96c5795d7870f42n; // ECMA-182, bit-reversed
/** Table k (k = 0..7) at [k * 256 + byte]; table 0 is the classic byte-at-a-time table. */
const SLICE_HI = new Uint32Array(8 * 256);
const SLICE_LO = new Uint32Array(8 * 256);
for (let i = 0; i < 256; i++) {
  let c = BigInt(i);
  for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ POLY : c >> 1n;
  SLICE_HI[i] = Number(c >> 32n);
  SLICE_LO[i] = Number(c & 0xffffffffn);
}
for (let k = 1; k < 8; k++) {
  for (let i = 0; i < 256; i++) {
    // T_k[i] = T_{k-1}[i] >> 8 ^ T_0[T_{k-1}[i] & 0xff]
    const prevHi = SLICE_HI[(k - 1) * 256 + i]!;
    const prevLo = SLICE_LO[(k - 1) * 256 + i]!;
    const index = prevLo & 0xff;
    SLICE_LO[k * 256 + i] = (((prevLo >>> 8) | (prevHi << 24)) ^ SLICE_LO[index]!) >>> 0;
    SLICE_HI[k * 256 + i] = ((prevHi >>> 8) ^ SLICE_HI[index]!) >>> 0;
  }
}
