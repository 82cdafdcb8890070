import { FerryError } from '../../core/errors.js';

/**
 * Split an RFC 6901 JSON pointer into reference tokens. `""` is the whole document;
 * `/users/0` is key `users`, then element 0. `~1` stands for `/` and `~0` for `~`. The
 * URI-fragment form (`#/users`) is accepted too, since that is how people copy pointers.
 *
 * @example
 * parseJsonPointer('/data/a~1b'); // ['data', 'a/b']
 */
export function parseJsonPointer(pointer: string): readonly string[] {
  let text = pointer;
  if (text.startsWith('#')) text = decodeURIComponent(text.slice(1));
  if (text === '') return [];
  if (!text.startsWith('/') || /~[^01]|~$/.test(text)) {
    throw new FerryError(`not a JSON pointer: ${JSON.stringify(pointer)}`, {
      code: 'SOURCE_BAD_JSON_POINTER',
      category: 'usage',
      hint: 'a JSON pointer is "" or starts with "/", e.g. "/data/users" (RFC 6901)',
    });
  }
  return text
    .slice(1)
    .split('/')
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/**
 * Write tokens back as a pointer, escaping `~` and `/`.
 *
 * @example
 * formatJsonPointer(['data', 'a/b']); // '/data/a~1b'
 */
export function formatJsonPointer(tokens: readonly string[]): string {
  return tokens.map((t) => `/${t.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/**
 * The value a pointer names in a parsed document, or `undefined` when nothing is there.
 *
 * @example
 * resolveJsonPointer({ data: [{ id: 1 }] }, ['data', '0']); // { id: 1 }
 */
export function resolveJsonPointer(root: unknown, tokens: readonly string[]): unknown {
  let node = root;
  for (const token of tokens) {
    if (Array.isArray(node)) {
      if (!/^(0|[1-9]\d*)$/.test(token)) return undefined;
      node = node[Number(token)];
    } else if (typeof node === 'object' && node !== null && Object.hasOwn(node, token)) {
      node = (node as Record<string, unknown>)[token];
    } else return undefined;
  }
  return node;
}
