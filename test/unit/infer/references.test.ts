import { ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { InferenceStats } from '../../../src/infer/index.js';

function ids(n: number): ObjectId[] {
  return Array.from({ length: n }, () => new ObjectId());
}

describe('reference detection by value overlap', () => {
  it("finds an ObjectId field whose values are another collection's _ids", () => {
    const stats = new InferenceStats();
    const users = ids(20);
    for (const _id of users) stats.add('users', { _id, name: 'x' });
    users.slice(0, 15).forEach((author, i) => {
      stats.add('posts', { _id: new ObjectId(), authorId: author, editorId: i % 2 ? users[i] : null });
    });
    const refs = stats.snapshot().references;
    expect(refs.map((r) => [r.collection, r.name, r.verdict])).toEqual([
      ['posts', 'authorId', 'reference'],
      ['posts', 'editorId', 'reference'],
    ]);
    expect(refs[0]?.kinds).toEqual([
      {
        kind: 'objectId',
        distinct: 15,
        targets: [
          { collection: 'users', overlap: 1, matched: 15, compared: 15, exact: true, targetComplete: true },
        ],
      },
    ]);
  });

  it('reports a field pointing into several collections as polymorphic', () => {
    const stats = new InferenceStats();
    const posts = ids(10);
    const photos = ids(10);
    for (const _id of posts) stats.add('posts', { _id });
    for (const _id of photos) stats.add('photos', { _id });
    [...posts.slice(0, 6), ...photos.slice(0, 4)].forEach((target) => {
      stats.add('comments', { _id: new ObjectId(), on: target });
    });
    const [on] = stats.snapshot().references;
    expect(on?.verdict).toBe('polymorphic');
    expect(on?.coverage).toBe(1);
    expect(on?.kinds[0]?.targets.map((t) => [t.collection, t.overlap])).toEqual([
      ['posts', 0.6],
      ['photos', 0.4],
    ]);
  });

  it('reports a field mixing ObjectId and string ids as polymorphic', () => {
    const stats = new InferenceStats();
    const users = ids(5);
    for (const _id of users) stats.add('users', { _id });
    for (const slug of ['acme', 'globex', 'initech']) stats.add('orgs', { _id: slug });
    for (const owner of [...users, 'acme', 'globex']) stats.add('repos', { _id: new ObjectId(), owner });
    const [owner] = stats.snapshot().references;
    expect(owner?.verdict).toBe('polymorphic');
    expect(owner?.kinds.map((k) => [k.kind, k.targets[0]?.collection])).toEqual([
      ['objectId', 'users'],
      ['string', 'orgs'],
    ]);
  });

  it('matches references stored as ObjectId hex strings against ObjectId _ids', () => {
    const stats = new InferenceStats();
    const users = ids(4);
    for (const _id of users) stats.add('users', { _id });
    for (const u of users) stats.add('events', { _id: new ObjectId(), userId: u.toHexString() });
    const [userId] = stats.snapshot().references;
    expect(userId?.verdict).toBe('reference');
    expect(userId?.kinds.map((k) => [k.kind, k.targets[0]?.collection, k.targets[0]?.overlap])).toEqual([
      ['objectIdHex', 'users', 1],
    ]);
  });

  it('calls a field with mostly dangling ids weak, and ignores fields that match nothing', () => {
    const stats = new InferenceStats();
    const users = ids(10);
    for (const _id of users) stats.add('users', { _id });
    const refs = [...users.slice(0, 2), ...ids(8)];
    for (const ref of refs) stats.add('audit', { _id: new ObjectId(), who: ref, unrelated: new ObjectId() });
    const found = stats.snapshot().references;
    expect(found.map((r) => [r.name, r.verdict, r.coverage])).toEqual([['who', 'weak', 0.2]]);
  });

  it('estimates overlap from coordinated hash samples once sketches pass their capacity', () => {
    const stats = new InferenceStats({ limits: { idSketchCapacity: 500, valueSketchCapacity: 200 } });
    const users = ids(5000);
    for (const _id of users) stats.add('users', { _id });
    // 3000 distinct referenced ids, 2/3 of them real users.
    const refs = [...users.slice(0, 2000), ...ids(1000)];
    for (const ref of refs) stats.add('orders', { _id: new ObjectId(), userId: ref });
    const snapshot = stats.snapshot();
    const users$ = snapshot.collections.find((c) => c.name === 'users');
    expect(users$?.ids.exact).toBe(false);
    const target = snapshot.references[0]?.kinds[0]?.targets[0];
    expect(target?.exact).toBe(false);
    expect(target?.compared).toBeGreaterThan(20);
    // Sample of ≥ 20 values: standard error ≤ 0.5/sqrt(20) ≈ 0.11; allow three of them.
    expect(target?.overlap).toBeGreaterThan(0.667 - 0.34);
    expect(target?.overlap).toBeLessThan(Math.min(1, 0.667 + 0.34));
  });
});
