import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../src/core/errors.js';
import { openMongoSource } from '../../../src/sources/mongodb/index.js';
import { mongoUrl, postgresUrl } from '../../support/services.js';

const url = mongoUrl();
const pgUrl = postgresUrl();

/** A loopback port nobody listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Everything a user or a log could see of an error: message, stack, every cause, as text. */
function everythingPrinted(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    parts.push(String(current), (current as Error).stack ?? '', (current as Error).message ?? '');
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join('\n');
}

async function openError(uri: string, timeoutMs = 5000): Promise<FerryError> {
  const error = await openMongoSource(uri, { serverSelectionTimeoutMs: timeoutMs }).then(
    async (source) => {
      await source.close();
      throw new Error('expected openMongoSource to fail');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FerryError);
  return error as FerryError;
}

describe('opening a live MongoDB source that cannot be used', () => {
  it('fails fast with SOURCE_UNREACHABLE (exit 3) when nothing listens on the port', async () => {
    const port = await closedPort();
    const started = Date.now();
    const error = await openError(`mongodb://127.0.0.1:${port}/shop`, 500);
    // Far below the driver's 30 s default, so it shows the 500 ms selection timeout was used,
    // with room for a busy machine.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(error.code).toBe('SOURCE_UNREACHABLE');
    expect(error.category).toBe('environment');
    expect(error.exitCode).toBe(3);
    expect(error.transient).toBe(true);
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).toContain('database shop');
  });

  it('rejects a string that is not a MongoDB URI as bad usage', async () => {
    const error = await openError('postgres://u:pw@host/db');
    expect(error.code).toBe('SOURCE_BAD_URI');
    expect(error.exitCode).toBe(2);
    expect(error.message).not.toContain(':pw@');
  });
});

// FerretDB 1.24 on PostgreSQL hands the credentials in the URI to PostgreSQL (over PLAIN), so
// the PostgreSQL user `ferry` and its real password are the real credentials here.
describe.skipIf(!url || !pgUrl)('opening FerretDB with credentials', () => {
  const host = new URL(url ?? 'mongodb://x').host;
  const realPassword = decodeURIComponent(new URL(pgUrl ?? 'postgres://x').password);
  const withCredentials = (user: string, password: string, query = '?authMechanism=PLAIN') =>
    `mongodb://${user}:${encodeURIComponent(password)}@${host}/ferry_connect${query}`;

  it('opens with the right user and password', async () => {
    const source = await openMongoSource(withCredentials('ferry', realPassword));
    expect(source.location).not.toContain(realPassword);
    expect(source.location).toContain('ferry:***@');
    await source.close();
  });

  it('fails with SOURCE_AUTH_FAILED naming host and database, never the wrong password', async () => {
    const wrong = 'Wr0ng-Pa55word-7c1e';
    const error = await openError(withCredentials('ferry', wrong));
    expect(error.code).toBe('SOURCE_AUTH_FAILED');
    expect(error.category).toBe('environment');
    expect(error.transient).toBe(false);
    expect(error.message).toContain(host);
    expect(error.message).toContain('database ferry_connect');
    expect(everythingPrinted(error)).not.toContain(wrong);
    expect(JSON.stringify(error)).not.toContain(wrong);
  });

  it('fails with SOURCE_AUTH_FAILED for an unknown user without printing the real password', async () => {
    const error = await openError(withCredentials('nobody', realPassword));
    expect(error.code).toBe('SOURCE_AUTH_FAILED');
    expect(everythingPrinted(error)).not.toContain(realPassword);
  });

  it('explains that FerretDB 1.x needs PLAIN when the driver offers SCRAM', async () => {
    const error = await openError(withCredentials('ferry', realPassword, ''));
    expect(error.code).toBe('SOURCE_AUTH_FAILED');
    expect(error.message).toContain('authMechanism=PLAIN');
    expect(everythingPrinted(error)).not.toContain(realPassword);
  });
});
