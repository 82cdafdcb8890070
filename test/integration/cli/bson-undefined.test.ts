import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BSON, type Document, ObjectId } from 'bson';
import { afterAll, describe, expect, it } from 'vitest';
import { Crc64 } from '../../../src/sources/archive/crc64.js';
import { writeArchive } from '../../../src/sources/archive/write-archive.js';
import { writeDumpDirectory } from '../../../src/sources/dump/write-dump-directory.js';
import { runFerry } from '../../support/cli.js';
import { createTestDatabase, postgresUrl } from '../../support/services.js';
import { sql } from '../load/support.js';

/**
 * BSON `undefined` (type 0x06, deprecated but found in old data) from a dump and from an
 * archive: it survives `ferry migrate` as `{"$undefined": true}` in `_extra`, the rebuilt
 * document has the key again, and `ferry verify` notices when it is gone from the target.
 * `BSON.serialize` never writes 0x06, so the tests write a null and turn its type byte into
 * 0x06 (fixing the archive's CRC to match).
 */
const available = postgresUrl() !== undefined;

const docs: Document[] = Array.from({ length: 8 }, (_, i) => ({
  _id: new ObjectId(`65f0a1b2c3d4e5f6012345${String(i).padStart(2, '0')}`),
  name: `n${i}`,
  note: `note ${i}`,
  tags: ['a', 'b'],
}));
// The only nulls in the data: each becomes BSON undefined.
docs[3] = { ...docs[3], note: null };
docs[5] = { ...docs[5], tags: ['a', null] };

/** Every null element under `key` turned into BSON undefined. */
function nullsToUndefined(bytes: Buffer, keys: readonly string[]): number {
  let changed = 0;
  for (const key of keys) {
    const pattern = Buffer.from([0x0a, ...Buffer.from(key), 0]);
    for (let at = bytes.indexOf(pattern); at >= 0; at = bytes.indexOf(pattern, at + 1)) {
      bytes[at] = 0x06;
      changed++;
    }
  }
  return changed;
}

async function writeDump(dir: string): Promise<string> {
  await writeDumpDirectory(dir, 'shop', [{ name: 'things', docs }]);
  const file = path.join(dir, 'shop', 'things.bson');
  const bytes = await readFile(file);
  expect(nullsToUndefined(bytes, ['note', '1'])).toBe(2);
  await writeFile(file, bytes);
  return dir;
}

async function writeUndefinedArchive(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'shop.archive');
  await writeArchive(file, 'shop', [{ name: 'things', docs }]);
  const bytes = await readFile(file);
  const crc = (from: readonly Buffer[]) => {
    const c = new Crc64();
    for (const b of from) c.update(b);
    return Buffer.from(BSON.serialize({ v: c.digest() })).subarray(7, 15); // the Long's 8 bytes
  };
  const serialized = docs.map((d) => Buffer.from(BSON.serialize(d)));
  const before = crc(serialized);
  for (const b of serialized) nullsToUndefined(b, ['note', '1']);
  expect(nullsToUndefined(bytes, ['note', '1'])).toBe(2);
  const at = bytes.indexOf(before);
  expect(at).toBeGreaterThan(0);
  crc(serialized).copy(bytes, at);
  await writeFile(file, bytes);
  return file;
}

describe.skipIf(!available)('BSON undefined from a dump and an archive', () => {
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const drop of drops) await drop();
  });

  it.each([
    ['a dump directory', writeDump],
    ['an archive', writeUndefinedArchive],
  ])('from %s is kept, rebuilt, and verify catches it when dropped', async (_, write) => {
    const { url, drop } = await createTestDatabase('bson_undefined');
    drops.push(drop);
    const cwd = await mkdtemp(path.join(tmpdir(), 'ferry-undefined-'));
    const source = await write(path.join(cwd, 'in'));
    const migrated = await runFerry(['migrate', source, '--target', url, '--yes', '--json'], { cwd });
    expect(migrated.code, migrated.stderr).toBe(0);
    const result = JSON.parse(migrated.stdout) as {
      verify: { collections: { compared: number; matched: number; content: number }[] }[];
    };
    expect(result.verify[0]!.collections[0]).toMatchObject({ compared: 8, matched: 8, content: 0 });

    const rows = await sql<{ name: string; note: string | null; extra: unknown }>(
      url,
      `select name, note, _extra as extra from public.things where to_jsonb(things)::text like '%$undefined%' order by name`,
    );
    expect(rows.map((r) => r.name)).toEqual(['n3', 'n5']);
    expect(rows[0]).toEqual({ name: 'n3', note: null, extra: { note: { $undefined: true } } });

    // A target that lost the undefined (as before this fix) no longer verifies.
    await sql(url, `update public.things set _extra = null where name = 'n3'`);
    const verified = await runFerry(['verify', source, '--target', url, '--json'], { cwd });
    expect(verified.code, verified.stderr).toBe(1);
    const report = JSON.parse(verified.stdout) as {
      collections: { content: number; differences: { path?: string; paths?: string[] }[] }[];
    };
    expect(report.collections[0]!.content).toBe(1);
    expect(JSON.stringify(report.collections[0]!.differences)).toContain('note');
  });
});
