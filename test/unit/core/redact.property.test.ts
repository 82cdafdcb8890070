import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactSecrets, redactUri } from '../../../src/core/redact.js';

/**
 * No part of a password survives redaction, whatever it holds, however it is written and
 * wherever the URL sits: alone, in a driver's message, in a JSON document.
 */

// The characters that break hand-written parsers, plus letters so passwords are not all symbols.
const AWKWARD = ['@', ':', '/', '%', '#', '?', '&', '=', ';', '+', ' ', '"', "'", '\\', 'é', 'ß', '密', '🔑'];
const passwordCharacter = fc.oneof(
  fc.constantFrom(...AWKWARD),
  fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzQXZ0123456789'),
);
const password = fc.array(passwordCharacter, { maxLength: 24 }).map((characters) => characters.join(''));
// Users, hosts and databases come from a small fixed vocabulary, so a password fragment that
// shows up after redaction can only have come from the password.
const user = fc.constantFrom('app', 'ferry_user', 'u');
const host = fc.constantFrom('127.0.0.1:5432', 'db.internal', '[::1]:6432', 'h1:27017,h2:27017');
const database = fc.constantFrom('shop', 'x', '');
const scheme = fc.constantFrom('postgres', 'postgresql', 'mongodb', 'mongodb+srv');
// Raw: as a user would paste it. Encoded: percent-encoded, as the drivers' docs ask.
const spelling = fc.constantFrom('raw', 'encoded');

interface GeneratedUrl {
  readonly url: string;
  readonly password: string;
  /** Everything in the URL but the password, which may legitimately remain. */
  readonly rest: string;
}

const generatedUrl = fc
  .record({ scheme, user, password, host, database, spelling })
  .map(({ scheme, user, password, host, database, spelling }): GeneratedUrl => {
    const written = spelling === 'raw' ? password : encodeURIComponent(password);
    const hostPart = scheme === 'mongodb+srv' ? 'cluster0.example.net' : host;
    const prefix = `${scheme}://${user}:`;
    const suffix = `@${hostPart}/${database}?application_name=ferry`;
    return { url: prefix + written + suffix, password, rest: prefix + suffix };
  });

/**
 * The fragments of a password that must not appear: the password itself, its
 * percent-encoded and JSON-escaped forms, and every substring of 3 or more characters of either that the rest
 * of the text does not also contain (so `app` in a password is allowed to match the user).
 */
function forbiddenFragments(secret: string, rest: string): string[] {
  const allowed = `${rest}***<credentials>`;
  const fragments = new Set<string>();
  for (const form of [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]) {
    for (let start = 0; start < form.length; start++) {
      for (let end = start + 3; end <= form.length; end++) {
        const fragment = form.slice(start, end);
        if (!allowed.includes(fragment)) fragments.add(fragment);
      }
    }
  }
  return [...fragments];
}

function expectNoPassword(output: string, secret: string, rest: string): void {
  for (const fragment of forbiddenFragments(secret, rest)) {
    if (output.includes(fragment)) {
      throw new Error(`password fragment ${JSON.stringify(fragment)} survives in ${JSON.stringify(output)}`);
    }
  }
}

const runs = { numRuns: 2_000 };

describe('redaction of generated connection strings', () => {
  it('redactUri leaves no fragment of the password in a URL of either scheme', () => {
    fc.assert(
      fc.property(generatedUrl, ({ url, password, rest }) => {
        expectNoPassword(redactUri(url), password, rest);
      }),
      runs,
    );
  });

  it('redactSecrets leaves no fragment of the password when the URL sits in a quoted driver message', () => {
    // Spaces and double quotes are fine inside a single-quoted URL; a raw single quote in the
    // password would make the text ambiguous to a reader too (redactUri handles that URL alone).
    const withoutQuote = generatedUrl.filter(({ url }) => !url.includes("'"));
    fc.assert(
      fc.property(withoutQuote, ({ url, password, rest }) => {
        const message = `connect failed for '${url}': ECONNREFUSED`;
        expectNoPassword(redactSecrets(message), password, `connect failed for '': ECONNREFUSED ${rest}`);
      }),
      runs,
    );
  });

  it("redactSecrets takes a quote that an '@' follows as part of the password, not the URL's end", () => {
    const message = "connect failed for 'postgres://app:it's@db.internal/shop': ECONNREFUSED";
    expect(redactSecrets(message)).toBe(
      "connect failed for 'postgres://app:***@db.internal/shop': ECONNREFUSED",
    );
  });

  it('redactSecrets leaves no fragment of the password in a JSON document and keeps it valid JSON', () => {
    fc.assert(
      fc.property(generatedUrl, ({ url, password, rest }) => {
        const document = (target: string) =>
          JSON.stringify({ target, note: 'mail ops@example.com' }, null, 2);
        const redacted = redactSecrets(document(url));
        expectNoPassword(redacted, password, document(rest));
        expect(JSON.parse(redacted).note).toBe('mail ops@example.com');
      }),
      runs,
    );
  });

  it('redactSecrets leaves no fragment of the password of an unquoted URL that has no space or quote', () => {
    const plain = password.filter((p) => !/[\s"']/.test(p));
    fc.assert(
      fc.property(
        fc.record({ scheme, user, password: plain, host, spelling }),
        ({ scheme, user, password, host, spelling }) => {
          const written = spelling === 'raw' ? password : encodeURIComponent(password);
          const message = (secret: string) =>
            `cannot reach ${scheme}://${user}:${secret}@${scheme === 'mongodb+srv' ? 'c.example.net' : host}/shop: timeout`;
          expectNoPassword(redactSecrets(message(written)), password, message(''));
        },
      ),
      runs,
    );
  });

  it('redactSecrets leaves no fragment of a password in a libpq key/value string, quoted or not', () => {
    fc.assert(
      fc.property(user, password, fc.boolean(), (user, password, quoteAlways) => {
        const needsQuotes = password === '' || /[\s'"\\]/.test(password);
        const value =
          quoteAlways || needsQuotes ? `'${password.replace(/[\\']/g, (c) => `\\${c}`)}'` : password;
        const conninfo = `host=db.internal port=5432 user=${user} password=${value} dbname=shop`;
        const redacted = redactSecrets(conninfo);
        expectNoPassword(redacted, password, `host=db.internal port=5432 user=${user} password= dbname=shop`);
        expect(redacted).toContain('dbname=shop');
      }),
      runs,
    );
  });

  it('keeps user, host and database so the redacted URL still says where it points', () => {
    fc.assert(
      fc.property(generatedUrl, ({ url }) => {
        const redacted = redactUri(url);
        // A URL that its parser cannot read unambiguously loses its user; never its host.
        expect(redacted).toMatch(/^(postgres|postgresql|mongodb|mongodb\+srv):\/\//);
        expect(redacted).toMatch(
          /(127\.0\.0\.1:5432|db\.internal|\[::1\]:6432|h1:27017,h2:27017|cluster0\.example\.net)/,
        );
      }),
      runs,
    );
  });
});
