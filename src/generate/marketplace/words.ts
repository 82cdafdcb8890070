import type { Random } from '../random.js';

// Small fixed pools: picking from a list is the cheapest way to get varied, realistic text,
// and non-ASCII names and cities are where encodings and collations go wrong.

export const FIRST_NAMES = [
  'Ada',
  'Grace',
  'Linus',
  'Margaret',
  'Łukasz',
  'Zoë',
  'Amélie',
  'Olúwaseun',
  'José',
  'Søren',
  'Chloé',
  'Mateo',
  'Aiko',
  'Hiroshi',
  'Fatima',
  'Priya',
  'Noah',
  'Ines',
  'Björn',
  'Anaïs',
  'Wei',
  'Ngozi',
  'Dmitri',
  'Émile',
  'Sofía',
  'Kwame',
  'Yusuf',
  'Mia',
  'Ilse',
  'Tomás',
] as const;

export const LAST_NAMES = [
  'Lovelace',
  'Hopper',
  'Nowak',
  'Müller',
  'García',
  'Okafor',
  'Tanaka',
  'Dubois',
  'Rossi',
  'Kowalski',
  'Andersen',
  'Nakamura',
  'Haddad',
  'Singh',
  "O'Brien",
  'van der Berg',
  'Schäfer',
  'Popescu',
  'Ivanova',
  'Mensah',
  'Silva',
  'Chen',
  'Yılmaz',
  'Kim',
  'Novák',
] as const;

/** [city, ISO 3166-1 alpha-2 country, postcode pattern (# = digit, A = letter)]. */
export const CITIES = [
  ['Berlin', 'DE', '#####'],
  ['München', 'DE', '#####'],
  ['Paris', 'FR', '#####'],
  ['Lyon', 'FR', '#####'],
  ['London', 'GB', 'A## #AA'],
  ['Manchester', 'GB', 'A## #AA'],
  ['Kraków', 'PL', '##-###'],
  ['Zürich', 'CH', '####'],
  ['Genève', 'CH', '####'],
  ['São Paulo', 'BR', '#####-###'],
  ['New York', 'US', '#####'],
  ['Austin', 'US', '#####'],
  ['東京', 'JP', '###-####'],
  ['Osaka', 'JP', '###-####'],
  ['Lagos', 'NG', '######'],
  ['Amsterdam', 'NL', '#### AA'],
  ['Madrid', 'ES', '#####'],
  ['İstanbul', 'TR', '#####'],
] as const;

export const STREETS = [
  'Hauptstraße',
  'Rue de Rivoli',
  'High Street',
  'ulica Floriańska',
  'Bahnhofstrasse',
  'Avenida Paulista',
  'Main St',
  'Calle Mayor',
  'Keizersgracht',
  'Istiklal Caddesi',
] as const;

export const PRODUCTS = [
  'Logo design',
  'Website redesign',
  'Mobile app MVP',
  'Wedding photography',
  'Translation EN→DE',
  'Vintage camera',
  'Handmade ceramic mug',
  'Oak dining table',
  'Used road bike',
  'Mechanical keyboard',
  'SEO audit',
  'Podcast editing',
  'Tax return help',
  'Kitchen renovation',
  'Guitar lessons',
  'Drone footage',
  'Café menu illustrations',
  'Data migration MongoDB→PostgreSQL',
  'Résumé review',
  'Custom sneakers 👟',
  'Birthday cake 🎂',
  'Piano tuning',
  'Bookkeeping (Q3)',
  'Moving van & 2 helpers',
] as const;

export const TAGS = [
  'urgent',
  'design',
  'dev',
  'handmade',
  'local',
  'remote',
  'vintage',
  'b2b',
  'gift',
  'eco',
  'fragile',
  'digital',
  'weekend',
  'premium',
  'négociable',
] as const;

export const COLORS = ['red', 'blue', 'black', 'white', 'green', 'oak', 'walnut', 'sage'] as const;
export const SIZES = ['XS', 'S', 'M', 'L', 'XL', '42', '10.5', 'one-size'] as const;

export const PHRASES = [
  'Hi! Is this still available?',
  'Sure, when do you need it by?',
  'I can do it by Friday 👍',
  'Payment sent, please confirm.',
  'Thanks a lot 🙏',
  'Could you send a photo of the back?',
  'Danke, sieht super aus!',
  'Merci beaucoup, à bientôt.',
  'ありがとうございます！',
  'Gracias, ¿puedes enviarlo mañana?',
  'Dziękuję, wszystko działa.',
  'The milestone is done, see attachment 📎',
  'Can we split the payment into two milestones?',
  'I opened a dispute, sorry 😕',
  'Delivered ✅',
  'lol 😂😂😂',
  'ok',
  '👍',
  '❤️🔥',
  'Let me check and get back to you.',
  'Tracking number: 1Z999AA10123456784',
  'Ça marche — je passe demain vers 14h.',
] as const;

export const EMOJI = ['👍', '❤️', '😂', '🎉', '🙏', '👀', '🔥', '👩‍💻'] as const;

/**
 * A chat message body: one to three phrases, or (rarely) a very long pasted text, the kind
 * that breaks a `varchar(255)` column.
 *
 * @example
 * declare const rng: Random;
 * const body = messageBody(rng, 0.002);
 */
export function messageBody(rng: Random, longRate: number): string {
  if (rng.chance(longRate)) {
    const paragraph = `${rng.pick(PHRASES)} ${rng.pick(PHRASES)}\n`;
    return paragraph.repeat(Math.ceil(rng.int(5_000, 40_000) / paragraph.length));
  }
  const n = rng.int(1, 3);
  let body = rng.pick(PHRASES);
  for (let i = 1; i < n; i++) body += ` ${rng.pick(PHRASES)}`;
  return body;
}

/**
 * A string following `pattern`: `#` becomes a digit, `A` a capital letter.
 *
 * @example
 * declare const rng: Random;
 * fillPattern(rng, '##-###'); // '31-042'
 */
export function fillPattern(rng: Random, pattern: string): string {
  let out = '';
  for (const ch of pattern) {
    if (ch === '#') out += String.fromCharCode(48 + rng.int(0, 9));
    else if (ch === 'A') out += String.fromCharCode(65 + rng.int(0, 25));
    else out += ch;
  }
  return out;
}

/**
 * A lowercase alphanumeric token of `length` characters, like provider ids (`ch_3Nq…`).
 *
 * @example
 * declare const rng: Random;
 * `pi_${token(rng, 24)}`;
 */
export function token(rng: Random, length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[rng.uint32() % 62];
  return out;
}
