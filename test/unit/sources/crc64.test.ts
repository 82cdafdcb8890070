import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/generate/index.js';
import { Crc64 } from '../../../src/sources/archive/crc64.js';

/** The textbook byte-at-a-time CRC-64/ECMA (reflected), in BigInt: slow, obviously right. */
function referenceCrc(chunks: readonly Uint8Array[]): bigint {
  const poly = 0xc96c5795d7870f42n;
  const table = Array.from({ length: 256 }, (_, i) => {
    let c = BigInt(i);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    return c;
  });
  let crc = 0xffffffffffffffffn;
  for (const chunk of chunks)
    for (const byte of chunk) crc = table[Number((crc ^ BigInt(byte)) & 0xffn)]! ^ (crc >> 8n);
  return BigInt.asIntN(64, crc ^ 0xffffffffffffffffn);
}

describe('Crc64', () => {
  it('agrees with the byte-at-a-time reference for any chunking, including lengths that are not multiples of 8', () => {
    const random = new Random(42);
    for (let round = 0; round < 300; round++) {
      const chunks = Array.from({ length: 1 + random.int(0, 5) }, () =>
        Uint8Array.from({ length: random.int(0, 70) }, () => random.int(0, 255)),
      );
      const crc = new Crc64();
      for (const chunk of chunks) crc.update(chunk);
      expect(crc.digest().toBigInt()).toBe(referenceCrc(chunks));
    }
  });

  it('gives the known CRC-64/ECMA check value for "123456789" (Go crc64.ECMA)', () => {
    const crc = new Crc64();
    crc.update(new TextEncoder().encode('123456789'));
    expect(BigInt.asUintN(64, crc.digest().toBigInt())).toBe(0x995dc9bbdf1939fan);
  });
});
