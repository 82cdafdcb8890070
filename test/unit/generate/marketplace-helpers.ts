import type { Document } from 'bson';
import { generateMarketplace, type MarketplaceOptions } from '../../../src/generate/index.js';

/** Every document of a small marketplace, by collection (small scales only: this holds them all). */
export function collect(options: MarketplaceOptions): Map<string, Document[]> {
  const out = new Map<string, Document[]>();
  for (const c of generateMarketplace(options)) out.set(c.name, [...c.docs()]);
  return out;
}

export function docsOf(all: Map<string, Document[]>, name: string): Document[] {
  const docs = all.get(name);
  if (docs === undefined) throw new Error(`no collection ${name}`);
  return docs;
}

/** The BSON type name of a value (`_bsontype`), or its JS type. */
export function bsonType(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Date) return 'Date';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return (value as { _bsontype?: string })._bsontype ?? 'object';
  return typeof value;
}

/** Calls `visit` with every (key, value) pair anywhere in a document, at every depth. */
export function walk(value: unknown, visit: (key: string, value: unknown) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, visit);
  } else if (value !== null && typeof value === 'object' && bsonType(value) === 'object') {
    for (const [key, child] of Object.entries(value as Document)) {
      visit(key, child);
      walk(child, visit);
    }
  }
}
