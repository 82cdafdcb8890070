import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listRejects } from '../../../src/load/rejects.js';
import { insertRejects } from '../../../src/load/state-store.js';
import { ensureFerryState, STATE_MIGRATIONS } from '../../../src/target/ferry-state.js';
import { openTarget } from '../../../src/target/open-target.js';
import type { TargetDatabase } from '../../../src/target/target-database.js';
import { createTestDatabase, postgresUrl } from '../../support/services.js';

/**
 * `ferry.rejects` keeps where in the source a reject came from (file, line, byte offset). The
 * columns arrive by a state migration, so a database set up by an older Ferry is upgraded in
 * place: its old rejects stay, without a location, and new ones get theirs.
 */
const LOCATIONS = STATE_MIGRATIONS.find((m) => m.name === 'reject locations')!;
const BEFORE = STATE_MIGRATIONS.filter((m) => m.version < LOCATIONS.version);

const oldReject = `insert into ferry.rejects (schema, collection, raw, raw_encoding, stage, code, reason)
  values ('public', 'things', '{x', 'text', 'read', 'SOURCE_BAD_JSON_LINE', 'not valid JSON')`;

async function upgradeAndStore(db: TargetDatabase): Promise<void> {
  expect(await ensureFerryState(db, BEFORE)).toHaveLength(BEFORE.length);
  await db.query(oldReject);
  expect(await ensureFerryState(db)).toEqual(
    STATE_MIGRATIONS.filter((m) => m.version >= LOCATIONS.version).map((m) => m.version),
  );
  expect(await ensureFerryState(db)).toEqual([]);
  await db.transaction((tx) =>
    insertRejects(tx, undefined, 'public', 'things', [
      {
        stage: 'read',
        docId: null,
        raw: '{y',
        rawEncoding: 'text',
        code: 'SOURCE_BAD_JSON_LINE',
        reason: 'not valid JSON',
        path: null,
        file: '/data/things.json',
        line: 3,
        offset: 164,
      },
    ]),
  );
  const rejects = await listRejects(db);
  expect(rejects.map(({ file, line, offset }) => ({ file, line, offset }))).toEqual([
    { file: null, line: null, offset: null },
    { file: '/data/things.json', line: 3, offset: 164 },
  ]);
}

describe('reject locations in ferry.rejects', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it.skipIf(!postgresUrl())(
    'upgrades a PostgreSQL state set up without them, keeping old rejects, once',
    async () => {
      const { url, drop } = await createTestDatabase('reject_locations');
      cleanups.push(drop);
      const db = await openTarget(url);
      cleanups.push(() => db.close());
      await upgradeAndStore(db);
    },
  );

  it('upgrades an embedded (PGlite) state the same way', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ferry-reject-locations-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const db = await openTarget(undefined, { embeddedDir: dir });
    cleanups.push(() => db.close());
    await upgradeAndStore(db);
  });
});
