/**
 * Credentials must never reach a log line or an error (DESIGN.md invariant 6). We redact
 * at the two places text leaves Ferry (errors and logs) rather than trusting every caller.
 */

// scheme://user:password@host — the password is everything up to the last '@' before the host.
const URI_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*)(?::([^\s/@]*))?@/gi;
// key=value pairs in libpq connection strings and query strings.
const PASSWORD_PARAM = /\b(password|passwd|pwd|secret|token)=([^\s&;]+)/gi;

/** Replace the password part of every URI (and password=… parameter) in `text`. */
export function redactSecrets(text: string): string {
  return text
    .replace(URI_USERINFO, (_match, scheme: string, user: string, password: string | undefined) =>
      password === undefined ? `${scheme}${user}@` : `${scheme}${user}:***@`,
    )
    .replace(PASSWORD_PARAM, (_match, key: string) => `${key}=***`);
}

/** A URI safe to print: the password replaced by `***`, everything else kept for diagnosis. */
export function redactUri(uri: string): string {
  return redactSecrets(uri);
}
