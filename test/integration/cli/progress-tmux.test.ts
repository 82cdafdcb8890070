import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMarketplaceArchive } from '../../../src/generate/marketplace/write-marketplace-archive.js';
import { createTestDatabase, postgresUrl, repoRoot } from '../../support/services.js';

const run = promisify(execFile);
const hasTmux = await run('tmux', ['-V']).then(
  () => true,
  () => false,
);
if (!hasTmux && process.env.CI === 'true') throw new Error('tmux is missing in CI (.ci/run installs it)');
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Lines the progress display draws: a bar or a spinner with a document count. */
const PROGRESS_LINE = /^(\S+) (\S+) +(?:\|[█░]+\| \d+% |[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] )[\d,]+(?:\/[\d,]+)? docs/;

/**
 * Issue 11, "progress that tells the truth", checked where it was seen: a real terminal.
 * `ferry migrate --parallel 4` of a generated archive runs in a tmux pane of fixed size, and
 * every screen captured along the way must be honest: no bar at 100% while its collection
 * is loading, no absurd rate, no broken ETA, one bar per collection and phase, no JSON.
 */
describe.skipIf(!postgresUrl() || (!hasTmux && process.env.CI !== 'true'))(
  'progress in a terminal (tmux)',
  () => {
    let url: string;
    let drop: () => Promise<void>;
    let dir: string;
    const socket = `ferry-progress-${process.pid}`;
    const tmux = (...args: string[]) => run('tmux', ['-L', socket, ...args]);

    beforeAll(async () => {
      ({ url, drop } = await createTestDatabase('progress_tmux'));
      dir = await mkdtemp(path.join(tmpdir(), 'ferry-tmux-'));
      await writeMarketplaceArchive(path.join(dir, 'market.archive.gz'), {
        seed: 7,
        scale: 40_000,
        gzip: true,
      });
    });
    afterAll(async () => {
      // Only the tmux server on this test's own socket.
      await tmux('kill-server').catch(() => {});
      await drop?.();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('draws honest bars for migrate --parallel 4: real totals, sane rates, one bar each, no JSON', async () => {
      const entry = path.join(repoRoot, 'src/cli/main.ts');
      const command = [
        `cd ${JSON.stringify(dir)}`,
        `NODE_OPTIONS= ${JSON.stringify(process.execPath)} --import ${JSON.stringify(tsxLoader)} ${JSON.stringify(entry)} migrate market.archive.gz --parallel 4 --verify count --target ${JSON.stringify(url)}`,
        'echo FERRY-EXIT=$?',
        'sleep 600',
      ].join('; ');
      await tmux('new-session', '-d', '-s', 'p', '-x', '120', '-y', '40', command);
      const screens: string[] = [];
      const deadline = Date.now() + 280_000;
      while (Date.now() < deadline) {
        const { stdout } = await tmux('capture-pane', '-p', '-t', 'p');
        screens.push(stdout);
        if (stdout.includes('FERRY-EXIT=')) break;
        await new Promise((r) => setTimeout(r, 400));
      }
      const last = screens.at(-1) ?? '';
      expect(last, last).toMatch(/FERRY-EXIT=0/);

      const progressScreens = screens.filter((s) => s.split('\n').some((l) => PROGRESS_LINE.test(l)));
      expect(progressScreens.length, 'screens with progress').toBeGreaterThanOrEqual(3);
      let sawRealTotal = false;
      for (const screen of screens) {
        const lines = screen.split('\n');
        expect(screen, 'no JSON on the screen').not.toMatch(/"type":|^\{/m);
        expect(screen, 'no broken ETA or rate').not.toMatch(/LLs|NaN|Infinity|NULL/);
        const bars = lines.filter((l) => PROGRESS_LINE.test(l));
        // No bar at 100%: a bar is drawn only while its collection's phase is still running.
        for (const bar of bars) expect(bar).not.toMatch(/\b100%/);
        for (const match of screen.matchAll(/([\d,]+)\/s\b/g))
          expect(Number(match[1]!.replaceAll(',', '')), match[0]).toBeLessThan(1_000_000);
        // One bar per collection and phase.
        const labels = bars.map((l) => PROGRESS_LINE.exec(l)!.slice(1, 3).join(' '));
        expect(labels, screen).toEqual([...new Set(labels)]);
        if (bars.some((l) => /\d+% /.test(l))) sawRealTotal = true;
        // Messages sit on lines of their own, above the bars, never glued into one.
        for (const line of lines.filter((l) => l.includes('ferry migrate:')))
          expect(line.startsWith('ferry migrate:'), line).toBe(true);
      }
      expect(sawRealTotal, 'a bar with the archive pre-scan total').toBe(true);
    });
  },
);
