import { type Document, Int32 } from 'bson';
import type { Random } from '../random.js';
import {
  createdSeconds,
  dateAt,
  docRandom,
  existingBefore,
  type MarketplaceContext,
  objectIdFor,
  recentIndex,
  reference,
} from './context.js';
import { paymentFacts, requestFacts } from './facts.js';
import { decimalFromMinor } from './money.js';
import { PHRASES } from './words.js';

const KINDS = ['payment_received', 'new_message', 'milestone_due', 'request_status', 'promo'] as const;
type Kind = (typeof KINDS)[number];
const DAY_MS = 86_400_000;

/**
 * Notification `index`, addressed to a user. `payload` is a Mongoose `Mixed` field: its shape
 * depends on `kind` (and in drifted documents it is a JSON string, from before the field was
 * an object). `readAt` is a Date once read, null when the app reset it, and missing on
 * notifications created before the field existed: missing is not null. `expiresAt` feeds the
 * TTL index; expired documents are still present, as in a dump taken between TTL sweeps.
 *
 * @example
 * declare const ctx: MarketplaceContext;
 * const n = notificationDocument(ctx, 0);
 * n.expiresAt > n.createdAt; // true
 */
export function notificationDocument(ctx: MarketplaceContext, index: number): Document {
  const rng = docRandom(ctx, 'notifications', index);
  const createdAt = dateAt(rng, createdSeconds(index, ctx.counts.notifications));
  const kind = rng.pick(KINDS);
  const { user, payload } = content(ctx, rng, index, kind);
  const doc: Document = {
    _id: objectIdFor(ctx, 'notifications', index),
    userId: reference(ctx, rng, 'users', user),
    kind,
    payload: rng.chance(ctx.mess.schemaDrift) ? JSON.stringify(plain(payload)) : payload,
  };
  const read = rng.float();
  if (read < 0.55) doc.readAt = new Date(createdAt.getTime() + rng.int(1, 3 * DAY_MS));
  else if (read < 0.9) doc.readAt = null;
  doc.expiresAt = new Date(createdAt.getTime() + (kind === 'promo' ? 7 : 90) * DAY_MS);
  doc.createdAt = createdAt;
  doc.updatedAt = doc.readAt instanceof Date ? doc.readAt : createdAt;
  doc.__v = new Int32(0);
  return doc;
}

function content(
  ctx: MarketplaceContext,
  rng: Random,
  index: number,
  kind: Kind,
): { user: number; payload: Document } {
  const users = existingBefore(ctx, 'notifications', index, 'users');
  switch (kind) {
    case 'payment_received': {
      const payment = recentIndex(rng, existingBefore(ctx, 'notifications', index, 'payments'));
      const facts = paymentFacts(ctx, payment);
      const request = requestFacts(ctx, facts.request);
      return {
        user: request.seller,
        payload: {
          paymentId: reference(ctx, rng, 'payments', payment),
          amount: decimalFromMinor(facts.amountMinor, facts.currency),
          currency: facts.currency,
        },
      };
    }
    case 'new_message': {
      const chat = recentIndex(rng, existingBefore(ctx, 'notifications', index, 'chats'));
      return {
        user: rng.int(0, users - 1),
        payload: {
          chatId: reference(ctx, rng, 'chats', chat),
          preview: rng.pick(PHRASES),
          unread: new Int32(rng.int(1, 9)),
        },
      };
    }
    case 'milestone_due': {
      const request = recentIndex(rng, existingBefore(ctx, 'notifications', index, 'purchaseRequests'));
      return {
        user: requestFacts(ctx, request).buyer,
        payload: {
          requestId: reference(ctx, rng, 'purchaseRequests', request),
          milestone: rng.pick(['Deposit', 'First draft', 'Final delivery', 'Full payment']),
          dueInDays: new Int32(rng.int(1, 7)),
        },
      };
    }
    case 'request_status': {
      const request = recentIndex(rng, existingBefore(ctx, 'notifications', index, 'purchaseRequests'));
      const from = rng.pick(['open', 'funded', 'in_progress', 'delivered']);
      return {
        user: requestFacts(ctx, request).buyer,
        payload: {
          requestId: reference(ctx, rng, 'purchaseRequests', request),
          from,
          to: rng.pick(['funded', 'in_progress', 'delivered', 'completed', 'disputed']),
        },
      };
    }
    case 'promo':
      return {
        user: rng.int(0, users - 1),
        payload: {
          campaign: rng.pick(['spring-sale', 'referral-bonus', 'black-friday-2024']),
          cta: {
            label: rng.pick(['Shop now', 'Jetzt ansehen', 'Voir les offres']),
            url: 'https://example.com/promo',
          },
          ...(rng.chance(0.5) && { locale: rng.pick(['en', 'de', 'fr']) }),
        },
      };
  }
}

/** What the old app's `JSON.stringify` wrote: ids as hex strings, money and counts as JSON numbers. */
function plain(payload: Document): Document {
  const out: Document = {};
  for (const [key, value] of Object.entries(payload)) {
    const type = (value as { _bsontype?: string } | null)?._bsontype;
    out[key] =
      type === 'ObjectId'
        ? String(value)
        : type === 'Decimal128' || type === 'Int32'
          ? Number(String(value))
          : value;
  }
  return out;
}
