import { FerryError } from '../../core/errors.js';
import { redactUri } from '../../core/redact.js';

/** What Ferry needs to know about a `mongodb://` URI before the driver sees it. */
export interface MongoUriParts {
  /** `host:port[,host:port…]`, safe to print. */
  readonly hosts: string;
  /** The database named in the path, or undefined for "every non-system database". */
  readonly database?: string;
  /** Whether user information is present (the password is never kept here). */
  readonly withCredentials: boolean;
}

// scheme://[userinfo@]hosts[/[database]][?options]. The driver rejects an unescaped '@' or '/'
// in the user information, so stopping at the last '@' before the first '/' is safe.
const MONGO_URI = /^mongodb(?:\+srv)?:\/\/(?:([^/?#]*)@)?([^/?#]*)(?:\/([^?#]*))?/i;

/**
 * Split a MongoDB URI into the parts Ferry reports and scopes by. The driver defaults a
 * missing database to `test`; Ferry reads that as "all databases" instead, so it parses the
 * path itself.
 *
 * @example
 * parseMongoUri('mongodb://u:p@db1:27017,db2/shop?replicaSet=rs0')
 * // { hosts: 'db1:27017,db2', database: 'shop', withCredentials: true }
 */
export function parseMongoUri(uri: string): MongoUriParts {
  const match = uri.match(MONGO_URI);
  if (!match?.[2]) {
    throw new FerryError(`not a MongoDB connection string: ${redactUri(uri)}`, {
      code: 'SOURCE_BAD_URI',
      category: 'usage',
      hint: 'use mongodb://[user:password@]host[:port][/database][?options]',
    });
  }
  const path = match[3] ? decodeURIComponent(match[3]) : '';
  return {
    hosts: match[2],
    ...(path === '' ? {} : { database: path }),
    withCredentials: match[1] !== undefined && match[1] !== '',
  };
}

/** Databases that hold the server's own state, never application data. */
export const SYSTEM_DATABASES: ReadonlySet<string> = new Set(['admin', 'local', 'config']);
