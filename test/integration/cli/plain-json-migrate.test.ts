import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFerry } from '../../support/cli.js';
import { createTestDatabase, postgresUrl } from '../../support/services.js';
import { sql } from '../load/support.js';

/**
 * A user moving off JSON files: `ferry migrate users.json` of an array of records with an `id`
 * field and integers beyond 2^53. The `id` is the primary key (not a second `id_2` column),
 * and every big integer arrives exactly.
 */
describe.skipIf(!postgresUrl())('ferry migrate of a plain JSON file', () => {
  let url: string;
  let drop: () => Promise<void>;
  let migrated: Awaited<ReturnType<typeof runFerry>>;

  beforeAll(async () => {
    ({ url, drop } = await createTestDatabase('plain_json_migrate'));
    const cwd = await mkdtemp(path.join(tmpdir(), 'ferry-plain-'));
    await writeFile(
      path.join(cwd, 'users.json'),
      `[
  {"id": 1, "name": "Ada", "balance": 12345678901234567890},
  {"id": 2, "name": "Alan", "balance": 9007199254740993},
  {"id": 3, "name": "Grace", "balance": 5}
]`,
    );
    migrated = await runFerry(['migrate', 'users.json', '--target', url, '--yes', '--json'], { cwd });
  });
  afterAll(async () => {
    await drop?.();
  });

  it('uses the id field as the primary key, and reads the big integers exactly', async () => {
    expect(migrated.code, migrated.stderr).toBe(0);
    const columns = await sql<{ column_name: string }>(
      url,
      `select column_name from information_schema.columns where table_name = 'users' order by ordinal_position`,
    );
    expect(columns.map((c) => c.column_name)).not.toContain('id_2');
    const rows = await sql<{ id: number; name: string; balance: string }>(
      url,
      'select id, name, balance::text as balance from public.users order by id',
    );
    expect(rows).toEqual([
      { id: 1, name: 'Ada', balance: '12345678901234567890' },
      { id: 2, name: 'Alan', balance: '9007199254740993' },
      { id: 3, name: 'Grace', balance: '5' },
    ]);
  });
});
