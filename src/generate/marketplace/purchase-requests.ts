import { type Document, Int32 } from 'bson';
import type { Random } from '../random.js';
import {
  createdSeconds,
  dateAt,
  docRandom,
  existingBefore,
  type MarketplaceContext,
  objectIdFor,
  optional,
  reference,
} from './context.js';
import { milestoneMinor, type RequestFacts, requestFacts } from './facts.js';
import { decimalFromMinor } from './money.js';
import { COLORS, PRODUCTS, SIZES, TAGS } from './words.js';

/** The lifecycle a request walks through; a request's `status` is the last step it reached. */
const HAPPY_PATH = ['draft', 'open', 'funded', 'in_progress', 'delivered', 'completed'] as const;
const MILESTONE_NAMES = ['Deposit', 'First draft', 'Revisions', 'Final delivery'] as const;
const ATTACHMENTS = [
  ['brief.pdf', 'application/pdf'],
  ['photo.jpg', 'image/jpeg'],
  ['Screenshot 2024-05-01 at 10.42.13.png', 'image/png'],
  ['contract (signed).docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  ['référence.txt', 'text/plain'],
] as const;
const HOUR_MS = 3_600_000;

/**
 * Purchase request `index`: a buyer asks a seller for items, paid in milestones through
 * escrow. `items`, `milestones`, `attachments` and `statusHistory` are embedded arrays of
 * sub-documents (child tables after migration); items and milestones add up to `total` to the
 * cent, so a migration that rounds money shows up as a sum mismatch.
 *
 * @example
 * declare const ctx: MarketplaceContext;
 * const request = purchaseRequestDocument(ctx, 0);
 * request.items.length; // 1..10
 */
export function purchaseRequestDocument(ctx: MarketplaceContext, index: number): Document {
  const facts = requestFacts(ctx, index);
  const rng = docRandom(ctx, 'purchaseRequests', index);
  const createdAt = dateAt(rng, createdSeconds(index, ctx.counts.purchaseRequests));
  const { currency, totalMinor } = facts;
  const status = pickStatus(rng);
  const history = statusHistory(ctx, rng, index, facts, status, createdAt.getTime());
  const updatedAt = (history[history.length - 1]?.at as Date | undefined) ?? createdAt;

  const doc: Document = {
    _id: objectIdFor(ctx, 'purchaseRequests', index),
    buyerId: reference(ctx, rng, 'users', facts.buyer),
    sellerId: reference(ctx, rng, 'users', facts.seller),
    title: rng.pick(PRODUCTS),
  };
  if (optional(ctx, rng, 0.5))
    doc.description = `${rng.pick(PRODUCTS)}, ${rng.pick(['asap', 'no rush', 'see attachment', 'details in chat 💬'])}`;
  doc.items = items(ctx, rng, totalMinor, currency);
  doc.milestones = milestones(rng, facts, status, createdAt.getTime());
  doc.attachments = attachments(rng, createdAt.getTime());
  doc.statusHistory = history;
  doc.total = decimalFromMinor(totalMinor, currency);
  doc.currency = currency;
  doc.status = status;
  doc.createdAt = createdAt;
  doc.updatedAt = updatedAt;
  doc.__v = new Int32(history.length - 1);
  return doc;
}

function pickStatus(rng: Random): string {
  const roll = rng.float();
  if (roll < 0.06) return 'cancelled';
  if (roll < 0.09) return 'disputed';
  // Most requests are finished: the data is two years old.
  if (roll < 0.6) return 'completed';
  return rng.pick(HAPPY_PATH);
}

function statusHistory(
  ctx: MarketplaceContext,
  rng: Random,
  index: number,
  facts: RequestFacts,
  status: string,
  createdMs: number,
): Document[] {
  const steps: string[] =
    status === 'cancelled'
      ? ['draft', 'open', 'cancelled']
      : status === 'disputed'
        ? ['draft', 'open', 'funded', 'in_progress', 'delivered', 'disputed']
        : HAPPY_PATH.slice(0, HAPPY_PATH.indexOf(status as (typeof HAPPY_PATH)[number]) + 1);
  const users = existingBefore(ctx, 'purchaseRequests', index, 'users');
  let at = createdMs;
  return steps.map((step, i) => {
    if (i > 0) at += rng.int(1, 24 * 14) * HOUR_MS + rng.int(0, HOUR_MS);
    // Moderators (any user, really) step in on disputes and cancellations.
    const actor =
      step === 'disputed' || step === 'cancelled'
        ? rng.int(0, users - 1)
        : step === 'funded' || step === 'completed' || step === 'draft'
          ? facts.buyer
          : facts.seller;
    return { status: step, at: new Date(at), by: reference(ctx, rng, 'users', actor) };
  });
}

function items(ctx: MarketplaceContext, rng: Random, totalMinor: number, currency: string): Document[] {
  const n = rng.chance(0.05) ? rng.int(5, 10) : rng.int(1, 3);
  const part = Math.floor(totalMinor / n);
  const out: Document[] = [];
  for (let i = 0; i < n; i++) {
    const lineMinor = i === n - 1 ? totalMinor - part * (n - 1) : part;
    const wanted = rng.pick([1, 1, 1, 2, 3, 4, 5]);
    const qty = lineMinor % wanted === 0 ? wanted : 1;
    const item: Document = {
      sku: `SKU-${rng.int(10_000, 99_999)}`,
      title: rng.pick(PRODUCTS),
      qty: new Int32(qty),
      unitPrice: decimalFromMinor(lineMinor / qty, currency),
      tags: pickTags(rng),
    };
    const options: Document = {};
    if (optional(ctx, rng, 0.3)) options.color = rng.pick(COLORS);
    if (optional(ctx, rng, 0.2)) options.size = rng.pick(SIZES);
    item.options = options;
    out.push(item);
  }
  return out;
}

function pickTags(rng: Random): string[] {
  const n = rng.pick([0, 1, 1, 2, 3]);
  const tags: string[] = [];
  for (let i = 0; i < n; i++) tags.push(rng.pick(TAGS));
  return tags;
}

function milestones(rng: Random, facts: RequestFacts, status: string, createdMs: number): Document[] {
  const reached = HAPPY_PATH.indexOf(status as (typeof HAPPY_PATH)[number]);
  const out: Document[] = [];
  for (let m = 0; m < facts.milestones; m++) {
    const done = status === 'completed' || (reached >= 4 && m < facts.milestones - 1);
    const mStatus =
      status === 'cancelled' ? 'cancelled' : done ? 'released' : reached >= 2 ? 'funded' : 'pending';
    out.push({
      name: facts.milestones === 1 ? 'Full payment' : (MILESTONE_NAMES[m] ?? `Milestone ${m + 1}`),
      dueAt: new Date(createdMs + (m + 1) * rng.int(3, 21) * 24 * HOUR_MS),
      amount: decimalFromMinor(milestoneMinor(facts.totalMinor, m, facts.milestones), facts.currency),
      status: mStatus,
    });
  }
  return out;
}

function attachments(rng: Random, createdMs: number): Document[] {
  const n = rng.pick([0, 0, 0, 0, 1, 1, 2, 3]);
  const out: Document[] = [];
  for (let i = 0; i < n; i++) {
    const [name, mime] = rng.pick(ATTACHMENTS);
    out.push({
      name,
      url: `https://files.example.com/${rng.uint32().toString(36)}/${encodeURIComponent(name)}`,
      mime,
      size: new Int32(rng.int(1_000, 20_000_000)),
      uploadedAt: new Date(createdMs + rng.int(0, 72) * HOUR_MS),
    });
  }
  return out;
}
