import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EJSON } from 'bson';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateExport } from '../../../src/export/export-manifest.js';
import { writeMarketplaceArchive } from '../../../src/generate/index.js';
import { uuidToObjectId } from '../../../src/mapping/identity.js';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { openSource } from '../../../src/sources/open.js';
import type { Source } from '../../../src/sources/types.js';
import { openTarget } from '../../../src/target/open-target.js';
import type { VerifyResult } from '../../../src/verify/types.js';
import { verify } from '../../../src/verify/verify.js';
import { runFerry } from '../../support/cli.js';
import { createTestDatabase, postgresUrl } from '../../support/services.js';

/**
 * `ferry verify --source <export>`: the target is compared with the export's manifest (its
 * bucket sums are deep verify's), so a clean export is proved without reading its documents;
 * what differs is still named with collection, `_id` and field path, and a file changed since
 * the export is read again rather than trusted.
 */
const url = postgresUrl();
const SCALE = 600;

let cwd: string;
let database: { url: string; drop: () => Promise<void> };

beforeAll(async () => {
  if (!url) return;
  cwd = await mkdtemp(path.join(tmpdir(), 'ferry-export-verify-'));
  const archive = path.join(cwd, 'marketplace.archive');
  await writeMarketplaceArchive(archive, { seed: 5, scale: SCALE });
  database = await createTestDatabase('export_verify');
  const migrated = await runFerry(['migrate', archive, '--target', database.url, '--json'], { cwd });
  expect(migrated.code, migrated.stderr).toBe(0);
});

afterAll(async () => {
  await database?.drop();
  if (cwd !== undefined) await rm(cwd, { recursive: true, force: true });
});

async function exportTo(name: string, format: string): Promise<string> {
  const to = path.join(cwd, name);
  const result = await runFerry(
    ['export', '--target', database.url, '--to', to, '--format', format, '--json'],
    {
      cwd,
    },
  );
  expect(result.code, result.stderr).toBe(0);
  return to;
}

async function verifyExport(source: string, ...flags: string[]) {
  const run = await runFerry(['verify', '--source', source, '--target', database.url, '--json', ...flags], {
    cwd,
  });
  return { code: run.code, stderr: run.stderr, result: JSON.parse(run.stdout) as VerifyResult };
}

/** Change one user's name in the target, run `body`, and put the name back. */
async function withEditedUser(body: (id: string) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>('select id from public.users order by id limit 1');
    const id = rows[0]!.id;
    await client.query(`update public.users set name = name || ' (edited)' where id = $1`, [id]);
    try {
      await body(uuidToObjectId(id).toHexString());
    } finally {
      await client.query(`update public.users set name = left(name, length(name) - 9) where id = $1`, [id]);
    }
  } finally {
    await client.end();
  }
}

describe.skipIf(!url)('ferry verify against an export, through its manifest', () => {
  it('proves a clean export through its manifest, given its path or the manifest itself, and exits 0', async () => {
    const to = await exportTo('clean.archive', 'archive');
    for (const source of [to, `${to}.manifest.json`]) {
      const { code, stderr, result } = await verifyExport(source);
      expect(code, stderr).toBe(0);
      expect(result.verdict).toBe('complete');
      expect(result.collections.reduce((n, c) => n + c.sourceCount, 0)).toBe(SCALE);
      expect(result.collections.every((c) => c.export?.compared === 'manifest')).toBe(true);
    }
    const text = await runFerry(['verify', to, '--target', database.url], { cwd });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('through the export manifest');
  });

  it('reads none of the exported documents when the target agrees with the manifest', async () => {
    const to = await exportTo('unread.archive', 'archive');
    const found = (await locateExport(to))!;
    const source = await openSource(to);
    let reads = 0;
    const counting: Source = Object.assign(Object.create(source) as Source, {
      read: (...args: Parameters<Source['read']>) => {
        reads++;
        return source.read(...args);
      },
    });
    const config = await import(path.join(cwd, 'ferry.config.ts'));
    const db = await openTarget(database.url);
    try {
      const plan = parsePlan(config.default.mapping);
      const result = await verify({ source: counting, db, plan, export: found, record: false });
      expect(result.ok).toBe(true);
      expect(reads).toBe(0);
      const reread = await verify({ source: counting, db, plan, export: found, reread: true, record: false });
      expect(reread.ok).toBe(true);
      expect(reads).toBe(plan.collections.length);
    } finally {
      await db.close();
      await source.close();
    }
  });

  it('names a row changed in the target after the export by collection, _id and field path, and exits 1', async () => {
    const to = await exportTo('before-edit.archive', 'archive');
    await withEditedUser(async (id) => {
      for (const flags of [[], ['--reread']]) {
        const { code, result } = await verifyExport(to, ...flags);
        expect(code, flags.join(' ')).toBe(1);
        const users = result.collections.find((c) => c.collection === 'users')!;
        expect(users.export?.compared).toBe(flags.length === 0 ? 'manifest' : 'reread');
        expect(users.differences).toEqual([
          { kind: 'content', id, fields: [{ path: 'name', kind: 'value' }] },
        ]);
        expect(result.collections.filter((c) => !c.ok).map((c) => c.collection)).toEqual(['users']);
      }
    });
  });

  it('does not trust an export file changed since the export: it reads it again and names the changed document', async () => {
    const to = await exportTo('tampered', 'ejson');
    const file = path.join(to, 'users.json');
    const lines = (await readFile(file, 'utf8')).split('\n');
    const doc = EJSON.parse(lines[3]!, { relaxed: false }) as {
      _id: { toHexString(): string };
      email: string;
    };
    doc.email = `changed.${doc.email}`;
    lines[3] = EJSON.stringify(doc, { relaxed: false });
    await writeFile(file, lines.join('\n'));

    const { code, result } = await verifyExport(to);
    expect(code).toBe(1);
    const users = result.collections.find((c) => c.collection === 'users')!;
    expect(users.export).toMatchObject({ compared: 'reread', fileChanged: true });
    expect(users.differences).toEqual([
      { kind: 'content', id: doc._id.toHexString(), fields: [{ path: 'email', kind: 'value' }] },
    ]);
    expect(result.collections.filter((c) => c.export?.fileChanged).map((c) => c.collection)).toEqual([
      'users',
    ]);
    const text = await runFerry(['verify', to, '--target', database.url], { cwd });
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('users.json changed since the export');
  });

  it('fails when the manifest alone was altered: its sums disagree with its own unchanged file', async () => {
    const to = await exportTo('forged.archive', 'archive');
    const manifestFile = `${to}.manifest.json`;
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
    const users = manifest.collections.find((c: { name: string }) => c.name === 'users');
    users.bucketSums[0] = (BigInt(`0x${users.bucketSums[0]}`) ^ 1n).toString(16);
    await writeFile(manifestFile, JSON.stringify(manifest));

    const { code, result } = await verifyExport(to);
    expect(code).toBe(1);
    const checked = result.collections.find((c) => c.collection === 'users')!;
    expect(checked.ok).toBe(false);
    expect(checked.export).toMatchObject({ compared: 'manifest', fileChanged: false, manifestAgrees: false });
    expect(checked.differences).toEqual([]);
  });
});
