import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Document } from 'bson';
import { describe, expect } from 'vitest';
import { objectIdToUuid } from '../../../src/mapping/identity.js';
import type { PlanInput } from '../../../src/mapping/model.js';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { openTarget } from '../../../src/target/open-target.js';
import { fetchTargetDocuments } from '../../../src/verify/target-reader.js';
import { runFerry } from '../../support/cli.js';
import { test } from '../../support/fixtures.js';
import { col, collection, objectIdColumn, planOf, table } from '../../support/plans.js';
import { postgresUrl } from '../../support/services.js';
import { oid, sql, writeSource } from '../load/support.js';
import { appFolder } from './support.js';

/** Sessions with a date and an array of dates: the plan says `timestamptz`, as every inferred plan does. */
const mapping: PlanInput = planOf(
  collection('sessions', [
    table('sessions', [
      objectIdColumn,
      col('started_at', ['startedAt'], 'timestamptz', 'date'),
      col('seen', ['seen'], 'timestamptz[]', 'date'),
    ]),
  ]),
);
const plan = parsePlan(mapping);
const where = { plan, collection: 'sessions', schema: 'public' };

const docs = [0, 1].map((i) => ({
  _id: oid(i, 9),
  startedAt: new Date(Date.UTC(2024, 0, 1, 0, 0, 0, 125 + i)),
  seen: [new Date(Date.UTC(2024, 0, 2, 0, 0, 0, 7))],
}));

async function columnTypes(url: string): Promise<Record<string, string>> {
  const rows = await sql<{ name: string; type: string }>(
    url,
    `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type from pg_attribute a
      where a.attrelid = 'public.sessions'::regclass and a.attname in ('started_at', 'seen')`,
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.type]));
}

/** The documents as the target rebuilds them, by `_id`. */
async function rebuilt(url: string): Promise<unknown[]> {
  const db = await openTarget(url);
  try {
    const keys = (await db.query<{ id: string }>('select id from public.sessions order by id')).rows.map(
      (r) => r.id,
    );
    const found = await fetchTargetDocuments(db, where, keys);
    return found
      .map((d) => d.doc ?? d.damaged)
      .sort((a, b) => String((a as Document)._id).localeCompare(String((b as Document)._id)));
  } finally {
    await db.close();
  }
}

describe.skipIf(!postgresUrl())('mapped dates hold milliseconds, as MongoDB does', () => {
  test('schema apply creates date columns as timestamptz(3), so an application writing now() stores what MongoDB can hold', async ({
    ownPgUrl: url,
  }) => {
    const cwd = await appFolder(mapping);
    const apply = await runFerry(['schema', 'apply', '--target', url, '--yes'], { cwd });
    expect(apply.code, apply.stderr).toBe(0);
    expect(await columnTypes(url)).toEqual({
      started_at: 'timestamp(3) with time zone',
      seen: 'timestamp(3) with time zone[]',
    });
    await sql(
      url,
      `insert into public.sessions (id, started_at, seen)
       values ($1, '2024-05-01 10:00:00.123456+00', array['2024-05-01 10:00:00.999999+00'::timestamptz])`,
      ['01890000-0000-7000-8000-000000000001'],
    );
    const [row] = await sql<{ started: string; seen: string }>(
      url,
      `select to_char(started_at at time zone 'UTC', 'HH24:MI:SS.US') as started, seen::text as seen from public.sessions`,
    );
    // PostgreSQL rounds on write: the microseconds never reach the table.
    expect(row).toEqual({ started: '10:00:00.123000', seen: '{"2024-05-01 10:00:01+00"}' });
    expect((await runFerry(['schema', 'check', '--target', url], { cwd })).code).toBe(0);
  });

  test('a table made with plain timestamptz before this change is rounded in place by schema apply, without a reload, and its sub-millisecond dates read back truncated meanwhile', async ({
    ownPgUrl: url,
  }) => {
    const cwd = await writeSource({ sessions: docs });
    await writeFile(
      path.join(cwd, 'ferry.config.ts'),
      `export default ${JSON.stringify({ source: cwd, mapping })};\n`,
    );
    const migrate = await runFerry(['migrate', '--target', url], { cwd });
    expect(migrate.code, migrate.stderr).toBe(0);

    // The database and migrations folder as an older Ferry left them: plain timestamptz.
    await sql(
      url,
      'alter table public.sessions alter column started_at type timestamptz, alter column seen type timestamptz[]',
    );
    const snapshotFile = path.join(cwd, 'migrations', 'ferry-snapshot.json');
    const snapshot = await readFile(snapshotFile, 'utf8');
    expect(snapshot).toContain('"timestamptz(3)"');
    await writeFile(snapshotFile, snapshot.replaceAll('timestamptz(3)', 'timestamptz'));
    // An application wrote microseconds meanwhile, into the first session.
    const first = objectIdToUuid(docs[0]!._id);
    await sql(
      url,
      `update public.sessions set started_at = started_at + interval '0.000999 seconds' where id = $1`,
      [first],
    );
    // Truncated, never rounded up into the next millisecond, and never refused.
    const meanwhile = await rebuilt(url);
    expect(meanwhile).toEqual(docs);

    const check = await runFerry(['schema', 'check', '--target', url], { cwd });
    expect(check.code).toBe(1);
    expect(check.stdout).toContain(
      'column public.sessions.started_at has type timestamp with time zone; the mapping says timestamp(3) with time zone',
    );
    // Not destructive: no --yes needed off a terminal, and nothing is reloaded.
    const apply = await runFerry(['schema', 'apply', '--target', url, '--json'], { cwd });
    expect(apply.code, apply.stderr).toBe(0);
    expect(JSON.parse(apply.stdout).reloaded).toBeUndefined();
    expect(await columnTypes(url)).toEqual({
      started_at: 'timestamp(3) with time zone',
      seen: 'timestamp(3) with time zone[]',
    });
    expect((await runFerry(['schema', 'check', '--target', url], { cwd })).code).toBe(0);
    // Rounded by PostgreSQL now: .125 + 0.999 ms is .125999, stored as .126.
    expect(
      await sql(
        url,
        `select to_char(started_at at time zone 'UTC', 'MS') as ms from public.sessions where id = $1`,
        [first],
      ),
    ).toEqual([{ ms: '126' }]);
  });
});
