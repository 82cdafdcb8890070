/**
 * Regenerate the damaged-input corpus under test/fixtures/damaged/ (committed, so a test
 * run never depends on this script; rerun it when a fixture's recipe changes):
 *
 *   npm run fixtures
 *
 * Every fixture is deterministic, so regenerating gives byte-identical files.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDamagedBsonFixtures } from './fixtures/damaged-bson.js';
import { writeDamagedJsonFixtures } from './fixtures/damaged-json.js';

const target = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test/fixtures/damaged');
await rm(target, { recursive: true, force: true });
await mkdir(path.join(target, 'bson'), { recursive: true });
await mkdir(path.join(target, 'json'), { recursive: true });
await writeDamagedBsonFixtures(path.join(target, 'bson'));
await writeDamagedJsonFixtures(path.join(target, 'json'));
console.log(`damaged fixtures written to ${path.relative(process.cwd(), target)}`);
