import { parentPort, type TransferListItem, workerData } from 'node:worker_threads';
import type { Plan } from '../mapping/model.js';
import { parsePlan } from '../mapping/validate-plan.js';
import { unpackFrames } from '../sources/bson/packed-frames.js';
import { ChunkEncoder } from './chunk-encoder.js';
import type { EncodeReply, EncodeRequest } from './encode-workers.js';

/**
 * The encoding thread of `EncodeWorkers`: turns a batch of BSON frames into COPY text with
 * the same `ChunkEncoder` the main thread uses, and sends back the buffers (moved, not
 * copied), which frames became documents, and the rejects.
 */
const plan: Plan = parsePlan((workerData as { plan: unknown }).plan);
const encoders = new Map<string, ChunkEncoder>();

parentPort?.on('message', (request: EncodeRequest) => {
  try {
    parentPort!.postMessage(...encode(request));
  } catch (error) {
    const reply: EncodeReply = { id: request.id, ok: false, message: (error as Error).message };
    parentPort!.postMessage(reply);
  }
});

function encode(request: EncodeRequest): [EncodeReply, TransferListItem[]] {
  const { collection } = request.context;
  const key = `${request.binary}\u0000${collection}`;
  let encoder = encoders.get(key);
  if (encoder === undefined) {
    encoder = new ChunkEncoder(plan, collection, undefined, request.binary);
    encoders.set(key, encoder);
  }
  const frames = unpackFrames(request);
  let unreadable = 0;
  const raw = {
    frames,
    context: request.context,
    noteRejects: (n: number) => {
      unreadable += n;
    },
  };
  const rejects = [];
  const encoded: number[] = [];
  for (let i = 0; i < frames.length; i++) {
    const before = encoder.count;
    rejects.push(...encoder.addFrames(raw, i, i + 1));
    if (encoder.count > before) encoded.push(i);
  }
  const parts = encoder.finishParts();
  const reply: EncodeReply = {
    id: request.id,
    ok: true,
    parts,
    encoded: Int32Array.from(encoded),
    rejects,
    unreadable,
  };
  const transfer = [
    ...parts.texts.map((t) => t.buffer),
    ...parts.byteEnds.map((e) => e.buffer),
    ...parts.rowEnds.map((e) => e.buffer),
    reply.encoded.buffer,
  ];
  return [reply, transfer as TransferListItem[]];
}
