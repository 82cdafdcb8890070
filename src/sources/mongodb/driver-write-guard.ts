import { createRequire } from 'node:module';
import { MongoNetworkError } from 'mongodb';

/**
 * A guard against a hang in the MongoDB Node.js driver (seen in 7.9.0 and 7.9.1). Install it once
 * per process; Ferry's own commands, `ferry serve` and `createRuntime` install it themselves (it
 * patches the driver's prototype, so connections made before it are covered too). An app that
 * connects long before it creates the runtime may install it earlier: an inline copy holds its
 * entities' locks while MongoDB writes, so a write that hangs holds up every later write of them.
 *
 * The hang: when a store goes away, every socket to it dies at once. A command the driver sends
 * at that moment on a connection whose socket is already destroyed, but whose `close` event has
 * not run yet, is written to the dead socket; `write()` returns false and the driver waits for a
 * `drain` that never comes. No socket timeout fires on a destroyed socket, so the command waits
 * forever. When that command is the server monitor's health check (the driver starts one at once
 * after a network error), the driver never learns that the store came back: every operation
 * after it fails server selection with the old error, for as long as the process lives. The
 * escrow outage test caught it: after FerretDB came back for 5 s, an instance acknowledged
 * nothing for a minute, and a debug log showed the heartbeat started and never ended.
 *
 * The guard: a command is refused with a `MongoNetworkError` when its socket is destroyed, and
 * one whose socket closes while it is being written fails the same way, which the driver handles
 * as the network error it is (the monitor marks the server unknown and checks again).
 *
 * It patches the driver's internal `Connection` class, hence the deep import of the `mongodb`
 * package that Ferry resolves, which is the app's and Mongoose's when npm hoists one copy (the
 * usual case; a second copy elsewhere stays unguarded). Remove it once a driver release waits on
 * `close` as well as `drain`. Idempotent.
 *
 * @example
 * import mongoose from 'mongoose';
 * installDriverWriteGuard();
 * await mongoose.connect('mongodb://127.0.0.1:27017/shop');
 */
export function installDriverWriteGuard(): void {
  const require = createRequire(import.meta.url);
  const { Connection } = require('mongodb/lib/cmap/connection.js') as { Connection: GuardedConnection };
  const proto = Connection.prototype;
  if (proto[GUARDED] === true) return;
  const write = proto.writeCommand;
  proto.writeCommand = function guardedWriteCommand(this: ConnectionLike, ...args: unknown[]) {
    const socket = this.socket;
    const closed = () =>
      new MongoNetworkError(`connection ${String(this.id)} to ${String(this.address)} closed`);
    if (socket.destroyed) return Promise.reject(closed());
    return new Promise<unknown>((resolve, reject) => {
      const onClose = () => reject(closed());
      socket.once('close', onClose);
      write
        .apply(this, args)
        .then(resolve, reject)
        .finally(() => socket.off('close', onClose));
    });
  };
  proto[GUARDED] = true;
}

const GUARDED = Symbol.for('ferry.driverWriteGuard');

interface ConnectionLike {
  readonly id: unknown;
  readonly address: unknown;
  readonly socket: NodeJS.EventEmitter & { readonly destroyed: boolean };
}

interface GuardedConnection {
  prototype: {
    writeCommand(this: ConnectionLike, ...args: unknown[]): Promise<unknown>;
    [GUARDED]?: boolean;
  };
}
