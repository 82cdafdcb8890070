import { readFileSync } from 'node:fs';
import { EJSON } from 'bson';
import { describe, expect, it } from 'vitest';
import { openEjsonSource } from '../../src/sources/ejson/ejson-source.js';
import { parseExtendedJson } from '../../src/sources/ejson/parse-extended-json.js';
import { datasetPath } from '../support/services.js';

const exports = [
  { file: 'sample_mflix/users.json', collection: 'users', count: 185 },
  { file: 'sample_mflix/theaters.json', collection: 'theaters', count: 1564 },
  { file: 'sample_mflix/sessions.json', collection: 'sessions', count: 1 },
  { file: 'sample_analytics/accounts.json', collection: 'accounts', count: 1746 },
];

describe.each(exports)('the real mongoexport file $file', ({ file, collection, count }) => {
  const path = datasetPath(file);

  it.skipIf(!path)(
    `holds ${count} documents in collection ${collection}, read through the Source interface`,
    async () => {
      const source = await openEjsonSource(path as string);
      expect((await source.listCollections()).map((c) => c.name)).toEqual([collection]);
      expect(await source.countDocuments(collection)).toBe(count);
      let docs = 0;
      let rejects = 0;
      for await (const batch of source.read(collection, { batchSize: 100 })) {
        docs += batch.docs.length;
        rejects += batch.rejects.length;
      }
      expect({ docs, rejects }).toEqual({ docs: count, rejects: 0 });
      await source.close();
    },
  );

  it.skipIf(!path)('parses every line exactly as EJSON.parse does, through the fast path', () => {
    const lines = readFileSync(path as string, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(count);
    for (const line of lines) {
      const fast = parseExtendedJson(line);
      const slow = EJSON.parse(line, { relaxed: false });
      expect(fast).toStrictEqual(slow);
      expect(EJSON.stringify(fast, { relaxed: false })).toBe(EJSON.stringify(slow, { relaxed: false }));
    }
  });
});
