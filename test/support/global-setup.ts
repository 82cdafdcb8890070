import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './services.js';

/**
 * If FerretDB could not be built, say so at the top and at the bottom of the test output,
 * so nobody mistakes skipped live-server tests for passing ones.
 */
function ferretUnavailableReason(): string | undefined {
  const file = path.join(repoRoot, '.services/env');
  if (!existsSync(file)) return undefined;
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('FERRY_FERRETDB_UNAVAILABLE='));
  return line?.slice('FERRY_FERRETDB_UNAVAILABLE='.length);
}

export default function setup(): () => void {
  const reason = ferretUnavailableReason();
  const banner = reason ? `\n⚠ LIVE MONGODB TESTS SKIPPED: ${reason}\n` : '';
  if (banner) console.warn(banner);
  return () => {
    if (banner) console.warn(banner);
  };
}
