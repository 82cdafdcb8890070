import { type Document, Double, Int32 } from 'bson';
import type { Random } from '../random.js';
import {
  createdSeconds,
  dateAt,
  docRandom,
  type MarketplaceContext,
  objectIdFor,
  optional,
  reference,
} from './context.js';
import { decimalFromMinor } from './money.js';
import { CITIES, FIRST_NAMES, fillPattern, LAST_NAMES, STREETS } from './words.js';

const ROLES = [['buyer'], ['buyer'], ['buyer', 'seller'], ['seller'], ['buyer', 'seller', 'admin']] as const;
const CHANNELS = ['email', 'sms', 'push', 'inApp', 'whatsapp'] as const;
const LOCALES = ['en-GB', 'en-US', 'de-DE', 'fr-FR', 'pl-PL', 'ja-JP', 'pt-BR'] as const;

/**
 * User `index`: a Mongoose `User` document. Emails embed the index, so the unique index on
 * `email` holds at any scale. `settings.notificationPrefs` is an object used as a map (its
 * keys are channels, and differ between users). `referredBy` points at an earlier user and is
 * missing for most (hence the sparse index). Drifted documents keep `balance` as a Double or
 * a string and `roles` as one string, as an older app version wrote them.
 *
 * @example
 * declare const ctx: MarketplaceContext;
 * const ada = userDocument(ctx, 0);
 * ada.email; // e.g. 'ada.lovelace.0@example.com'
 */
export function userDocument(ctx: MarketplaceContext, index: number): Document {
  const rng = docRandom(ctx, 'users', index);
  const seconds = createdSeconds(index, ctx.counts.users);
  const first = rng.pick(FIRST_NAMES);
  const last = rng.pick(LAST_NAMES);
  const createdAt = dateAt(rng, seconds);
  const drift = rng.chance(ctx.mess.schemaDrift);
  const [city, country, postcode] = rng.pick(CITIES);

  const profile: Document = {};
  if (optional(ctx, rng, 0.4)) profile.bio = rng.pick(BIOS);
  if (optional(ctx, rng, 0.6))
    profile.avatarUrl = `https://cdn.example.com/avatars/${index.toString(36)}.jpg`;
  profile.address = {
    street: `${rng.int(1, 250)} ${rng.pick(STREETS)}`,
    city,
    country,
    postcode: fillPattern(rng, postcode),
  };

  const roles = rng.pick(ROLES);
  const doc: Document = {
    _id: objectIdFor(ctx, 'users', index),
    name: `${first} ${last}`,
    email: `${ascii(first)}.${ascii(last)}.${index.toString(36)}@${rng.pick(DOMAINS)}`,
    profile,
    roles: drift && rng.chance(0.5) ? roles[0] : [...roles],
    settings: settings(rng),
  };
  if (optional(ctx, rng, 0.08)) doc.phone = `+${rng.int(1, 99)} ${fillPattern(rng, '### ### ####')}`;
  doc.balance = balance(rng, drift);
  // Most users signed up on their own; the first user cannot have been referred.
  if (index > 0 && rng.chance(0.25)) doc.referredBy = reference(ctx, rng, 'users', rng.int(0, index - 1));
  doc.createdAt = createdAt;
  doc.updatedAt = new Date(createdAt.getTime() + rng.int(0, 400) * 86_400_000 * rng.float());
  doc.__v = new Int32(rng.int(0, 3));
  return doc;
}

const BIOS = [
  'Designer based in Berlin.',
  'Full-stack dev, coffee enthusiast ☕',
  'Je vends des objets vintage.',
  'Photographer 📷 weddings & events',
  '',
  'Selling my late grandfather’s tools.',
] as const;

const DOMAINS = ['example.com', 'mail.example.org', 'example.net', 'corp.example'] as const;

// Email local parts are ASCII; computed once per name rather than normalising per document.
const ASCII = new Map<string, string>(
  [...FIRST_NAMES, ...LAST_NAMES].map((n) => [
    n,
    n
      .normalize('NFD')
      .replace(/[^A-Za-z]/g, '')
      .toLowerCase(),
  ]),
);

function ascii(name: string): string {
  return ASCII.get(name) ?? 'user';
}

/** `notificationPrefs` is keyed by channel: a map, not a record, and its keys vary per user. */
function settings(rng: Random): Document {
  const prefs: Document = {};
  for (const channel of CHANNELS) if (rng.chance(0.6)) prefs[channel] = rng.chance(0.7);
  return { locale: rng.pick(LOCALES), notificationPrefs: prefs, twoFactor: rng.chance(0.2) };
}

function balance(rng: Random, drift: boolean): unknown {
  const minor = rng.chance(0.4) ? 0 : rng.int(0, 250_000);
  if (!drift) return decimalFromMinor(minor, 'EUR');
  // Before money moved to Decimal128 the app stored floats, and an import script wrote strings.
  return rng.chance(0.5) ? new Double(minor / 100) : (minor / 100).toFixed(2);
}
