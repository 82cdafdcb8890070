import { ConnectionString } from 'mongodb-connection-string-url';
import { parse as parsePostgresUrl } from 'pg-connection-string';

/** What replaces a secret. Redacting an already redacted URL gives the same URL. */
export const REDACTED = '***';

/** How the names of parameters that carry a secret end (`password`, `sslpassword`, `proxyPassword`, `token`, …). */
export const SECRET_WORDS = 'password|passwd|pwd|secret|token';
const SECRET_PARAMETER = new RegExp(`^[a-z_]*(?:${SECRET_WORDS})$`, 'i');

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/**
 * One connection string (the whole of `url` is taken as the URL) with its credentials
 * replaced by `***`; host, port, database and harmless options stay for diagnosis.
 *
 * The password is found the way the driver finds it: `pg-connection-string` for
 * `postgres://` (so `postgres://app:p@ssw0rd@h/x` has the password `p@ssw0rd`, as `pg`
 * reads it), `mongodb-connection-string-url` and its `redact()` for `mongodb://`. A URL
 * that its parser refuses, or whose reading is ambiguous (an `@` after the first `/`, `?`
 * or `#`, which an unescaped password can put there), loses its whole user information.
 */
export function redactUrl(url: string): string {
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return url;
  if (atOutsideAuthority(url)) return redactUserinfoWholly(url);
  if (scheme === 'mongodb' || scheme === 'mongodb+srv') return redactMongoUrl(url);
  return redactGenericUrl(url, scheme === 'postgres' || scheme === 'postgresql');
}

function redactMongoUrl(url: string): string {
  let parsed: ConnectionString;
  try {
    parsed = new ConnectionString(url);
  } catch {
    return redactUserinfoWholly(url);
  }
  const redacted = parsed.redact({ replacementString: REDACTED, redactUsernames: false }).toString();
  return withoutPassword(redacted, safeDecode(parsed.password), url);
}

/**
 * `postgres://` and any other `scheme://user:password@host/…`. The user information is what
 * lies between `://` and the last `@` of the authority (WHATWG URL rules, which both
 * `pg-connection-string` and Node's URL follow).
 */
function redactGenericUrl(url: string, postgres: boolean): string {
  const start = url.indexOf('://') + 3;
  const lastAt = url.lastIndexOf('@');
  let password: string;
  try {
    // Only the part before the query: pg-connection-string reads certificate files named there.
    const beforeQuery = url.slice(0, firstIndexOf(url, ['?'], start));
    password = postgres ? (parsePostgresUrl(beforeQuery).password ?? '') : new URL(beforeQuery).password;
  } catch {
    return redactUserinfoWholly(url);
  }
  if (lastAt < start) return redactQuery(url);
  const userinfo = url.slice(start, lastAt);
  const colon = userinfo.indexOf(':');
  const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
  const hasPassword = colon >= 0 && colon < userinfo.length - 1;
  const redacted = `${url.slice(0, start)}${user}${hasPassword ? `:${REDACTED}` : ''}@${redactQuery(url.slice(lastAt + 1))}`;
  return withoutPassword(redacted, safeDecode(password), url);
}

/**
 * An `@` after the end of the authority (the first `/`, `?` or `#`) makes a URL ambiguous:
 * parsers read it as part of the path, while a person meant a password holding `/`, `?` or `#`.
 */
function atOutsideAuthority(url: string): boolean {
  const start = url.indexOf('://') + 3;
  return url.lastIndexOf('@') >= firstIndexOf(url, ['/', '?', '#'], start);
}

/** `scheme://***@rest`: for what no parser reads unambiguously, everything up to the last `@` goes. */
function redactUserinfoWholly(url: string): string {
  const start = url.indexOf('://') + 3;
  const lastAt = url.lastIndexOf('@');
  if (lastAt < start) return redactQuery(url);
  return `${url.slice(0, start)}${REDACTED}@${redactQuery(url.slice(lastAt + 1))}`;
}

/** Secret query parameters (`?password=…`, `sslpassword=…`) keep their name and lose their value. */
function redactQuery(rest: string): string {
  const query = rest.indexOf('?');
  if (query < 0) return rest;
  const fragment = firstIndexOf(rest, ['#'], query);
  const parameters = rest
    .slice(query + 1, fragment)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      if (equals < 0 || !SECRET_PARAMETER.test(safeDecode(pair.slice(0, equals)))) return pair;
      return `${pair.slice(0, equals)}=${REDACTED}`;
    });
  return `${rest.slice(0, query + 1)}${parameters.join('&')}${rest.slice(fragment)}`;
}

/**
 * The last line of defence: if the parsed password still shows in the result (the parser
 * and this file disagreeing about where the user information ends), drop the whole user
 * information. A password that also shows in the host or path part is no leak.
 */
function withoutPassword(redacted: string, password: string, original: string): string {
  if (password === '') return redacted;
  const shows = (text: string) => text.includes(password) || text.includes(encodeURIComponent(password));
  const safest = redactUserinfoWholly(original);
  return shows(redacted) && !shows(safest) ? safest : redacted;
}

function firstIndexOf(text: string, characters: readonly string[], from: number): number {
  let first = text.length;
  for (const character of characters) {
    const index = text.indexOf(character, from);
    if (index >= 0 && index < first) first = index;
  }
  return first;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
