import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Document, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { collectStats } from '../../../src/infer/index.js';
import { writeArchive } from '../../../src/sources/archive/write-archive.js';
import { openSource } from '../../../src/sources/open.js';

function* users(count: number): Generator<Document> {
  for (let i = 0; i < count; i++)
    yield { _id: new ObjectId(), name: `user ${i}`, ...(i === count - 1 ? { late: true } : {}) };
}

function* posts(count: number, authors: readonly ObjectId[]): Generator<Document> {
  for (let i = 0; i < count; i++) yield { _id: new ObjectId(), author: authors[i % authors.length] };
}

describe('collectStats in first-then-ids mode', () => {
  it('analyses the first N documents of an archive and notes every later _id from the undecoded BSON', async () => {
    const archive = path.join(await mkdtemp(path.join(tmpdir(), 'ferry-first-then-ids-')), 'blog.archive');
    const people = [...users(300)];
    await writeArchive(archive, 'blog', [
      { name: 'users', docs: people },
      // Posts refer to users 250..299 only, which the sample of 100 users never analyses.
      {
        name: 'posts',
        docs: posts(
          50,
          people.slice(250).map((u) => u._id as ObjectId),
        ),
      },
    ]);
    const source = await openSource(archive);
    const progress: number[] = [];
    try {
      const stats = await collectStats(source, {
        sample: 100,
        sampleMode: 'first-then-ids',
        batchSize: 64,
        onProgress: (p) => {
          if (p.collection === 'users') progress.push(p.read);
        },
      });
      const snapshot = stats.snapshot();
      const usersSnapshot = snapshot.collections.find((c) => c.name === 'users')!;
      expect(usersSnapshot).toMatchObject({ documents: 100, complete: false, idsComplete: true });
      expect(usersSnapshot.ids.distinct).toBe(300);
      // The last user's field is beyond the sample: not in the statistics (the load check's job).
      expect(usersSnapshot.fields.map((f) => f.name)).not.toContain('late');
      // Every reference lands on an id the sample did not analyse, and all of them are found.
      const author = snapshot.references.find((r) => r.collection === 'posts' && r.name === 'author');
      expect(author?.kinds[0]?.targets[0]).toMatchObject({
        collection: 'users',
        overlap: 1,
        targetComplete: true,
      });
      expect(progress.at(-1)).toBe(300);
    } finally {
      await source.close();
    }
  });
});
