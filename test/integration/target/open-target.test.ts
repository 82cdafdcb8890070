import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FerryError } from '../../../src/core/errors.js';
import { openTarget } from '../../../src/target/open-target.js';
import { postgresUrl } from '../../support/services.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'ferry-open-target-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function failure(promise: Promise<unknown>): Promise<FerryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FerryError);
  return error as FerryError;
}

describe('openTarget', () => {
  it('refuses a URL that is not PostgreSQL as a usage error, without its password', async () => {
    const error = await failure(openTarget('mysql://root:topsecret@db/app'));
    expect(error.code).toBe('TARGET_BAD_URL');
    expect(error.exitCode).toBe(2);
    expect(error.message).not.toContain('topsecret');
  });

  it('reports an unreachable server as an environment error (exit 3) without the password', async () => {
    const error = await failure(
      openTarget('postgres://ferry:topsecret@127.0.0.1:1/app', { connectTimeoutMs: 2000 }),
    );
    expect(error.code).toBe('TARGET_UNREACHABLE');
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain('127.0.0.1:1');
    expect(`${error.message} ${String(error.cause)} ${error.stack}`).not.toContain('topsecret');
  });

  it.runIf(postgresUrl() !== undefined)(
    'reports a wrong password as a refused connection without the password',
    async () => {
      const url = new URL(postgresUrl()!);
      url.password = 'not-the-password';
      const error = await failure(openTarget(url.toString()));
      expect(error.code).toBe('TARGET_REFUSED');
      expect(error.exitCode).toBe(3);
      expect(error.message).not.toContain('not-the-password');
    },
  );

  it('opens the embedded database when no URL is given, and keeps its data across close and reopen', async () => {
    const dir = path.join(scratch, 'persisted', 'pglite');
    const first = await openTarget(undefined, { embeddedDir: dir });
    expect(first.kind).toBe('pglite');
    expect(first.location).toBe(dir);
    await first.query('create table kept (id int primary key, note text)');
    await first.transaction((tx) =>
      tx.copyFrom({ schema: 'public', name: 'kept' }, ['id', 'note'], [[{ id: 1, note: 'still here' }]]),
    );
    await first.close();
    expect(existsSync(`${dir}.lock`)).toBe(false);

    const second = await openTarget('', { embeddedDir: dir });
    try {
      expect((await second.query('select * from kept')).rows).toEqual([{ id: 1, note: 'still here' }]);
    } finally {
      await second.close();
    }
  });

  it('refuses to open an embedded directory another live process holds, and takes over a dead one', async () => {
    const dir = path.join(scratch, 'locked', 'pglite');
    const lock = `${dir}.lock`;
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.dirname(dir), { recursive: true });
    // pid 1 always runs; it stands for another Ferry.
    writeFileSync(lock, '1\n');
    const error = await failure(openTarget(undefined, { embeddedDir: dir }));
    expect(error.code).toBe('TARGET_EMBEDDED_LOCKED');
    expect(error.exitCode).toBe(3);

    // No process has pid 2^22 + 1 (above Linux's pid_max default): a stale lock after kill -9.
    writeFileSync(lock, `${2 ** 22 + 1}\n`);
    const db = await openTarget(undefined, { embeddedDir: dir });
    const again = await failure(openTarget(undefined, { embeddedDir: dir }));
    expect(again.code).toBe('TARGET_EMBEDDED_LOCKED');
    await db.close();
  });
});
