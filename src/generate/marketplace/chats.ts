import { type Document, Int32, type ObjectId } from 'bson';
import type { Random } from '../random.js';
import {
  createdSeconds,
  dateAt,
  docRandom,
  existingBefore,
  type MarketplaceContext,
  messageObjectId,
  objectIdFor,
  optional,
  recentIndex,
  reference,
} from './context.js';
import { requestFacts } from './facts.js';
import { EMOJI, messageBody } from './words.js';

/** A chat holds at most this many messages (message ids encode the position in one byte). */
const MAX_MESSAGES = 200;

/**
 * Chat `index`: the conversation about one purchase request between its buyer and seller
 * (and sometimes a support agent), with every message embedded, as Mongoose apps usually do
 * until a chat outgrows 16 MB. Messages have their own ObjectIds, `readBy` arrays of user ids,
 * `reactions` as a map from emoji to a count, and an optional `edits` history; a few bodies
 * are very long pasted texts. Drifted (older) messages have no `reactions` at all.
 *
 * @example
 * declare const ctx: MarketplaceContext;
 * const chat = chatDocument(ctx, 0);
 * chat.messages[0].senderId; // the buyer or the seller
 */
export function chatDocument(ctx: MarketplaceContext, index: number): Document {
  const rng = docRandom(ctx, 'chats', index);
  const seconds = createdSeconds(index, ctx.counts.chats);
  const request = recentIndex(rng, existingBefore(ctx, 'chats', index, 'purchaseRequests'));
  const facts = requestFacts(ctx, request);
  const buyer = reference(ctx, rng, 'users', facts.buyer);
  const seller = reference(ctx, rng, 'users', facts.seller);
  const participants: ObjectId[] = [buyer, seller];
  if (rng.chance(0.05)) {
    const users = existingBefore(ctx, 'chats', index, 'users');
    participants.push(reference(ctx, rng, 'users', rng.int(0, users - 1)));
  }
  const createdAt = dateAt(rng, seconds);

  // Most chats are short; a few are long threads (the long tail is what breaks batch sizes).
  const n = rng.chance(0.03) ? rng.int(50, MAX_MESSAGES) : rng.pick([0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20]);
  const messages: Document[] = [];
  let atMs = createdAt.getTime();
  for (let m = 0; m < n; m++) {
    atMs += rng.int(5, 6 * 3600) * 1000 + rng.int(0, 999);
    messages.push(message(ctx, rng, index, m, atMs, participants));
  }
  const doc: Document = {
    _id: objectIdFor(ctx, 'chats', index),
    participants,
    requestId: reference(ctx, rng, 'purchaseRequests', request),
    messages,
  };
  if (n > 0) doc.lastMessageAt = new Date(atMs);
  doc.createdAt = createdAt;
  doc.updatedAt = new Date(atMs);
  doc.__v = new Int32(n);
  return doc;
}

function message(
  ctx: MarketplaceContext,
  rng: Random,
  chat: number,
  m: number,
  atMs: number,
  participants: readonly ObjectId[],
): Document {
  const sender = rng.int(0, participants.length - 1);
  const readBy: ObjectId[] = [];
  for (let p = 0; p < participants.length; p++) {
    const participant = participants[p];
    if (participant !== undefined && p !== sender && rng.chance(0.8)) readBy.push(participant);
  }
  const doc: Document = {
    _id: messageObjectId(ctx, chat, m, Math.floor(atMs / 1000)),
    senderId: participants[sender],
    body: messageBody(rng, 0.002),
    sentAt: new Date(atMs),
    readBy,
  };
  if (!rng.chance(ctx.mess.schemaDrift)) doc.reactions = reactions(rng);
  if (optional(ctx, rng, 0.04)) {
    const edits: Document[] = [];
    const k = rng.int(1, 3);
    for (let e = 0; e < k; e++)
      edits.push({ at: new Date(atMs + (e + 1) * 60_000), body: messageBody(rng, 0) });
    doc.edits = edits;
  }
  return doc;
}

/** Emoji keys: a map whose keys are data (and multi-code-point strings). */
function reactions(rng: Random): Document {
  const map: Document = {};
  if (rng.chance(0.8)) return map;
  const k = rng.int(1, 3);
  for (let i = 0; i < k; i++) map[rng.pick(EMOJI)] = new Int32(rng.int(1, 5));
  return map;
}
