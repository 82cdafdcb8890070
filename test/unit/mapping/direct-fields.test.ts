import { describe, expect, it } from 'vitest';
import { Random, seedFromEnv } from '../../../src/generate/index.js';
import { writeObjectIdUuid } from '../../../src/mapping/bson-copy/direct-fields.js';
import { TextSink } from '../../../src/mapping/bson-copy/text-sink.js';
import { uuidFromBytes } from '../../../src/mapping/identity.js';

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
