import { describe, expect, it } from 'vitest';
import { writeTimestamptzMicros } from '../../../src/copy/copy-binary.js';
import { TextSink } from '../../../src/copy/text-sink.js';
import { Random, seedFromEnv } from '../../../src/generate/index.js';
import { writeObjectIdUuid, writeTimestamptz } from '../../../src/mapping/bson-copy/direct-fields.js';
import { uuidFromBytes } from '../../../src/mapping/identity.js';
import { MIN_TIMESTAMPTZ_MS, timestamptzText } from '../../../src/mapping/pg-text.js';

describe('writeObjectIdUuid', () => {
  it('writes the same uuid text as uuidFromBytes for random and extreme ObjectIds', () => {
    const rng = new Random(seedFromEnv(11));
    const samples = [new Uint8Array(12), new Uint8Array(12).fill(0xff)];
    for (let i = 0; i < 2000; i++) samples.push(Uint8Array.from({ length: 12 }, () => rng.int(0, 255)));
    const sink = new TextSink(8);
    for (const id of samples) {
      const padded = new Uint8Array(20);
      padded.set(id, 5);
      sink.length = 0;
      writeObjectIdUuid(sink, padded, 5);
      expect(sink.bytes.toString('latin1', 0, sink.length)).toBe(uuidFromBytes(id));
    }
  });
});

describe('writeTimestamptz', () => {
  const text = (ms: number): string | undefined => {
    const sink = new TextSink(4);
    return writeTimestamptz(sink, ms) ? sink.bytes.toString('latin1', 0, sink.length) : undefined;
  };

  it('writes what timestamptzText writes, at the edges of both ranges and around every era boundary', () => {
    const edges = [
      0,
      -1,
      1,
      951_782_400_000 /* 2000-02-29 */,
      -62_135_596_800_000 /* 0001-01-01 */,
      -62_135_596_800_001,
      -62_198_755_200_000 /* 0000-01-01 */,
      MIN_TIMESTAMPTZ_MS,
      MIN_TIMESTAMPTZ_MS - 1,
      MIN_TIMESTAMPTZ_MS + 1,
      8.64e15,
      8.64e15 + 1,
      -8.64e15,
      253_402_300_799_999 /* 9999-12-31 */,
      253_402_300_800_000,
    ];
    for (const ms of edges) expect(text(ms), String(ms)).toBe(timestamptzText(new Date(ms)));
  });

  it('writes what timestamptzText writes for random instants across the whole range', () => {
    const rng = new Random(seedFromEnv(12));
    for (let i = 0; i < 20_000; i++) {
      const ms = Math.round(MIN_TIMESTAMPTZ_MS + rng.float() * (8.64e15 - MIN_TIMESTAMPTZ_MS));
      expect(text(ms), String(ms)).toBe(timestamptzText(new Date(ms)));
    }
  });
});

describe('writeTimestamptzMicros', () => {
  it('writes microseconds since 2000 as the exact int64, across the whole range', () => {
    const rng = new Random(seedFromEnv(13));
    const samples = [0, 946_684_800_000, 946_684_799_999, MIN_TIMESTAMPTZ_MS, 8.64e15, -1];
    for (let i = 0; i < 5000; i++)
      samples.push(Math.round(MIN_TIMESTAMPTZ_MS + rng.float() * (8.64e15 - MIN_TIMESTAMPTZ_MS)));
    const sink = new TextSink(4);
    for (const ms of samples) {
      sink.length = 0;
      writeTimestamptzMicros(sink, ms);
      expect(sink.bytes.readBigInt64BE(0), String(ms)).toBe((BigInt(ms) - 946_684_800_000n) * 1000n);
    }
  });
});
