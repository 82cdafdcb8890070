/**
 * Regenerate docs/errors.md from the error-code catalogue (src/core/error-codes.ts):
 *
 *   npx tsx scripts/generate-error-docs.ts
 *
 * test/unit/core/error-codes.test.ts fails while the committed file differs from what this writes.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_DOCS_FILE, renderErrorDocs } from './error-docs.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
await writeFile(path.join(root, ERROR_DOCS_FILE), renderErrorDocs());
console.log(`wrote ${ERROR_DOCS_FILE}`);
