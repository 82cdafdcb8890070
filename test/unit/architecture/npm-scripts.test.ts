import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../support/services.js';

/**
 * `npm run bench` needs the same PostgreSQL (and, for sync and writes, FerretDB) as the tests;
 * npm runs a `pre<script>` before `<script>`, so both must start them the same way, or the
 * bench stops with "no PostgreSQL" on a fresh checkout.
 */
describe('npm scripts', () => {
  const scripts = (
    JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts;

  it('npm run bench starts the services before it runs, as npm test does', () => {
    expect(scripts.pretest).toContain('scripts/services.sh start');
    expect(scripts.prebench).toBe(scripts.pretest);
  });
});
