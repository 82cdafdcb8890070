import { parentPort } from 'node:worker_threads';
import { unpackFrames } from '../sources/bson/packed-frames.js';
import type { HashReply, HashRequest } from './source-hash-workers.js';
import { hashFrames } from './source-hashes.js';

/**
 * The hashing thread of `SourceHashWorkers`: hashes a packed batch of BSON frames and sends
 * the hashes back (moved, not copied).
 */
parentPort?.on('message', (request: HashRequest) => {
  let reply: HashReply;
  try {
    const result = hashFrames(unpackFrames(request), request.context);
    reply = { id: request.id, ok: true, ...result };
  } catch (error) {
    reply = { id: request.id, ok: false, message: (error as Error).message };
  }
  parentPort!.postMessage(reply, reply.ok ? [reply.hashes.buffer as ArrayBuffer] : []);
});
