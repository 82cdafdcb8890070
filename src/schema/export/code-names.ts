/**
 * Identifiers for generated ORM code. The plan's names are PostgreSQL names (snake_case,
 * possibly with a hash suffix, possibly anything a collection was called); the code needs
 * valid, readable identifiers that never collide, and the same plan must give the same
 * identifiers every time (the exported file is diffed in code review and checked in CI).
 */

/** Words that cannot be a TypeScript `const` or a Prisma field/model name. */
// biome-ignore format: a word list reads better packed
const RESERVED = new Set([
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do',
  'else', 'enum', 'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'import', 'in',
  'instanceof', 'new', 'null', 'return', 'super', 'switch', 'this', 'throw', 'true', 'try', 'typeof',
  'var', 'void', 'while', 'with', 'yield', 'let', 'static', 'implements', 'interface', 'package',
  'private', 'protected', 'public', 'await', 'arguments', 'eval', 'undefined', 'constructor',
  '__proto__', 'prototype',
]);

/** The words of a name: split at anything that is not a letter or digit, and at lowerUpper. */
function words(name: string): string[] {
  return name
    .normalize('NFKD')
    .replace(/[^\x20-\x7e]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w.length > 0)
    .map((w) => w.toLowerCase());
}

/**
 * `order_items` → `orderItems`; a name with no usable letters becomes `fallback`, and one
 * starting with a digit gets it as a prefix (`2fa` → `t2fa` with fallback `t`).
 *
 * @example
 * camelCase('purchase_requests_milestones', 'table')   // 'purchaseRequestsMilestones'
 * camelCase('_extra', 'column')                        // 'extra'
 */
export function camelCase(name: string, fallback: string): string {
  const parts = words(name);
  if (parts.length === 0) return fallback;
  const joined = parts.map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('');
  return /^[0-9]/.test(joined) ? `${fallback}${joined[0]!.toUpperCase()}${joined.slice(1)}` : joined;
}

/**
 * `order_items` → `OrderItems`, for Prisma model names.
 *
 * @example
 * pascalCase('purchase_requests', 'Model')   // 'PurchaseRequests'
 */
export function pascalCase(name: string, fallback: string): string {
  const camel = camelCase(name, fallback.toLowerCase());
  return camel[0]!.toUpperCase() + camel.slice(1);
}

/**
 * Hands out identifiers in one namespace: the first asker gets the plain name, a later one
 * with the same name gets `name2`, `name3`, … Reserved words and the names passed as
 * `taken` (imports, fixed fields) are never handed out. Callers ask in plan order, which is
 * deterministic, so the numbering is too.
 *
 * @example
 * const names = new IdentifierPool(['sql']);
 * names.take('user_id')   // 'userId'
 * names.take('userId')    // 'userId2'
 */
export class IdentifierPool {
  private readonly used: Set<string>;

  constructor(taken: Iterable<string> = []) {
    this.used = new Set(taken);
  }

  /** A fresh camelCase identifier for `name`. */
  take(name: string, fallback = 'field'): string {
    return this.claim(camelCase(name, fallback));
  }

  /** A fresh identifier from one already spelled as wanted. */
  claim(wanted: string): string {
    let candidate = RESERVED.has(wanted) ? `${wanted}_` : wanted;
    for (let n = 2; this.used.has(candidate); n++) candidate = `${wanted}${n}`;
    this.used.add(candidate);
    return candidate;
  }
}
