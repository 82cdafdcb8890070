import { REDACTED, redactUrl, SECRET_WORDS } from './redact-url.js';

/**
 * Credentials must never reach a log line, an error or a report (DESIGN.md invariant 6). We
 * redact at the places text leaves Ferry (errors, logs, command output, reports) rather than
 * trusting every caller, and we find passwords the way the drivers do (redact-url.ts), since a
 * regular expression and the driver disagree on `postgres://app:p@ssw0rd@host/x`.
 */

// Where a secret may start: the `://` of a URL, or a secret key and its `=` (libpq key/value
// strings, environment lines, query strings outside a URL). Searching for these fixed marks,
// then looking back for the scheme, keeps the scan linear and fast on long runs of letters
// (base64 in a raw document), where trying `scheme://` from every position would not be.
const SECRET_MARK = new RegExp(`://|(?:${SECRET_WORDS})\\s*=\\s*`, 'gi');
const SCHEME_CHARACTER = /[a-z0-9+.-]/i;
const LETTER = /[a-z]/i;
const MAX_SCHEME_LENGTH = 32;

/**
 * `text` with every URL's credentials and every `password=…` value replaced by `***`.
 *
 * In free text a URL that follows a quote runs to the matching quote on its line; any other
 * URL runs to the next whitespace or unescaped double quote (so JSON stays JSON). A libpq value is
 * either single-quoted (with backslash escapes) or runs to whitespace or an unescaped `"`.
 * Each URL found is redacted through its driver's parser (`redactUri`).
 *
 * @example
 * redactSecrets('cannot reach postgres://app:p@ssw0rd@db:5432/shop: timeout');
 * // 'cannot reach postgres://app:***@db:5432/shop: timeout'
 * redactSecrets("host=db user=app password='s3 cret'");
 * // 'host=db user=app password=***'
 */
export function redactSecrets(text: string): string {
  let out = '';
  let position = 0;
  SECRET_MARK.lastIndex = 0;
  for (let match = SECRET_MARK.exec(text); match !== null; match = SECRET_MARK.exec(text)) {
    if (match[0] === '://') {
      const start = schemeStart(text, match.index, position);
      if (start === undefined) continue;
      const end = urlEnd(text, match.index + 3, text[start - 1]);
      out += text.slice(position, start) + redactUrl(text.slice(start, end));
      position = end;
    } else {
      // The key itself (`sslpassword`, `PGPASSWORD`) stays; only its value goes.
      const valueStart = match.index + match[0].length;
      const end = parameterValueEnd(text, valueStart);
      out += text.slice(position, valueStart) + (end > valueStart ? REDACTED : '');
      position = end;
    }
    SECRET_MARK.lastIndex = Math.max(position, match.index + 1);
  }
  return out + text.slice(position);
}

/** Where the scheme before a `://` at `mark` starts (a letter, then letters, digits, `+.-`), if there is one. */
function schemeStart(text: string, mark: number, floor: number): number | undefined {
  let start = mark;
  while (start > floor && mark - start < MAX_SCHEME_LENGTH && SCHEME_CHARACTER.test(text[start - 1]!))
    start--;
  while (start < mark && !LETTER.test(text[start]!)) start++;
  return start < mark ? start : undefined;
}

/**
 * One connection string, safe to print: its password replaced by `***`, everything else
 * kept for diagnosis. Unlike `redactSecrets`, the whole argument is the URL, so a password
 * with spaces or quotes in it is still found.
 *
 * @example
 * redactUri('postgres://app:p@ssw0rd@127.0.0.1:5432/shop'); // 'postgres://app:***@127.0.0.1:5432/shop'
 * redactUri('mongodb://admin:p%40ss@h1,h2/?authSource=admin'); // 'mongodb://admin:***@h1,h2/?authSource=admin'
 */
export function redactUri(uri: string): string {
  const trimmed = uri.trim();
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? redactUrl(trimmed) : redactSecrets(uri);
}

const QUOTES = new Set(['"', "'", '`']);

function urlEnd(text: string, from: number, before: string | undefined): number {
  if (before !== undefined && QUOTES.has(before)) {
    // A quoted URL may hold spaces (pg accepts them in a password), so it ends at its closing
    // quote on the same line. A quote followed by an '@' before the next quote is inside the
    // password (`'postgres://u:it's@host'`), not the closing one.
    const lineEnd = text.indexOf('\n', from) < 0 ? text.length : text.indexOf('\n', from);
    for (let close = unescapedIndexOf(text, before, from); close >= 0 && close < lineEnd; ) {
      const next = unescapedIndexOf(text, before, close + 1);
      const stretchEnd = next < 0 || next > lineEnd ? lineEnd : next;
      if (!text.slice(close + 1, stretchEnd).includes('@')) return close;
      close = next;
    }
  }
  for (let i = from; i < text.length; i++) {
    if (/\s/.test(text[i]!)) return i;
    if (text[i] === '"' && text[i - 1] !== '\\') return i;
  }
  return text.length;
}

function unescapedIndexOf(text: string, character: string, from: number): number {
  for (let i = text.indexOf(character, from); i >= 0; i = text.indexOf(character, i + 1)) {
    if (text[i - 1] !== '\\') return i;
  }
  return -1;
}

function parameterValueEnd(text: string, from: number): number {
  if (text[from] === "'") {
    for (let i = from + 1; i < text.length; i++) {
      if (text[i] === '\\') i++;
      else if (text[i] === "'") return i + 1;
    }
    return text.length;
  }
  for (let i = from; i < text.length; i++) {
    const character = text[i]!;
    if (/\s/.test(character) || (character === '"' && text[i - 1] !== '\\')) return i;
  }
  return text.length;
}
