import { createRequire } from 'node:module';
import net from 'node:net';
import { MongoNetworkError } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installDriverWriteGuard } from '../../../src/index.js';

const require = createRequire(import.meta.url);
const { Connection } = require('mongodb/lib/cmap/connection.js') as {
  Connection: new (
    socket: net.Socket,
    options: Record<string, unknown>,
  ) => { command(ns: unknown, cmd: object, options: object): Promise<unknown> };
};
const { ns } = require('mongodb/lib/utils.js') as { ns(namespace: string): unknown };

/**
 * The race the guard closes, made deterministic: a store goes away and the socket under a driver
 * connection is destroyed, but the connection has not handled the socket's `close` yet when the
 * driver writes a command on it (the driver's health check does exactly this right after a
 * network error). The peer is a plain TCP server: what matters is the local socket.
 */
describe('installDriverWriteGuard', () => {
  let server: net.Server;
  let port: number;

  beforeAll(async () => {
    server = net.createServer((socket) => socket.on('error', () => {}));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function commandOnJustDestroyedSocket(): Promise<'hung' | unknown> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const connection = new Connection(socket, { id: 1, generation: 0, hostAddress: { toString: () => 'x' } });
    socket.destroy();
    const outcome = connection.command(ns('admin.$cmd'), { ping: 1 }, {}).then(
      () => 'answered',
      (error: unknown) => error,
    );
    return Promise.race([outcome, new Promise((resolve) => setTimeout(() => resolve('hung'), 2000))]);
  }

  it('is needed: without it the driver waits for good on a command written to a dead socket', async () => {
    // When this fails, the driver no longer hangs here: the guard can go.
    expect(await commandOnJustDestroyedSocket()).toBe('hung');
  });

  it('makes that command fail at once with a network error the driver handles', async () => {
    installDriverWriteGuard();
    installDriverWriteGuard(); // idempotent
    const outcome = await commandOnJustDestroyedSocket();
    expect(outcome).toBeInstanceOf(MongoNetworkError);
    expect(String((outcome as Error).message)).toMatch(/closed/);
  });
});
