import { describe, expect, it } from 'vitest';
import { createProgress, renderBar } from '../../../src/cli/progress.js';
import { RateWindow } from '../../../src/cli/rate-window.js';
import { renderTable } from '../../../src/core/render-table.js';

describe('progress when not on a terminal', () => {
  it('writes JSON lines, rate-limited per collection, and always the final state of each', () => {
    const lines: string[] = [];
    const progress = createProgress({ isTerminal: false, write: (l) => lines.push(l), intervalMs: 60_000 });
    for (let done = 100; done <= 1000; done += 100)
      progress.update({ collection: 'sales', done, total: 1000 });
    progress.update({ collection: 'users', done: 7 });
    progress.finish('sales');
    progress.stop();
    const events = lines.map((l) => JSON.parse(l));
    // Within the interval nothing but the final states is written: no flood of lines.
    expect(events.map((e) => [e.collection, e.done, e.final])).toEqual([
      ['sales', 1000, true],
      ['users', 7, true],
    ]);
    expect(events[0]).toMatchObject({ type: 'progress', total: 1000 });
    expect(lines.every((l) => l.endsWith('\n'))).toBe(true);
  });

  it('writes nothing when disabled, as for --json output', () => {
    const lines: string[] = [];
    const progress = createProgress({ isTerminal: false, enabled: false, write: (l) => lines.push(l) });
    progress.update({ collection: 'sales', done: 1 });
    progress.stop();
    expect(lines).toEqual([]);
  });
});

describe('progress on a terminal', () => {
  const state = (done: number, total: number | undefined, window = new RateWindow()) => ({
    collection: 'orders',
    phase: 'load',
    done,
    total,
    window,
    started: 0,
  });

  it('shows a spinner with the count, never a bar, while the total is unknown', () => {
    const line = renderBar(state(5000, undefined), 3000);
    expect(line).toMatch(/^orders load +. 5,000 docs \| 3s$/);
    expect(line).not.toContain('%');
  });

  it('never shows 100% while the collection is still loading, even with every document read', () => {
    expect(renderBar(state(999, 1000), 1000)).toContain(' 99% ');
    expect(renderBar(state(1000, 1000), 1000)).toContain(' 99% ');
    // A total that turned out too small is not trusted: the count is shown instead.
    expect(renderBar(state(1200, 1000), 1000)).not.toContain('%');
  });

  it('measures the rate over the last seconds, so a resumed load does not read as millions per second', () => {
    const window = new RateWindow();
    window.add(0, 5_000_000); // resumed at five million documents, one millisecond in
    window.add(1, 5_000_000);
    expect(window.rate(1)).toBeUndefined();
    expect(renderBar(state(5_000_000, 6_000_000, window), 1)).not.toMatch(/\/s/);
    for (let t = 500; t <= 10_000; t += 500) window.add(t, 5_000_000 + t * 2);
    expect(window.rate(10_000)).toBeCloseTo(2000, -1);
    const line = renderBar(state(5_020_000, 6_000_000, window), 10_000);
    expect(line).toMatch(/\| 2,000\/s \| ETA 8m10s$/);
  });

  it('writes a stalled rate as zero and no ETA rather than a broken one', () => {
    const window = new RateWindow();
    window.add(0, 10);
    window.add(2000, 10);
    const line = renderBar(state(10, 100, window), 2000);
    expect(line).toContain('| 0/s');
    expect(line).not.toContain('ETA');
    expect(line).not.toMatch(/NaN|Infinity|NULL|LL/);
  });

  it('cuts a line to the terminal width so it never wraps', () => {
    expect(renderBar(state(1, undefined), 0, 20).length).toBeLessThan(20);
  });
});

describe('renderTable', () => {
  it('aligns text left and numbers right under a ruled header', () => {
    expect(
      renderTable(
        ['collection', 'documents'],
        [
          ['sales', 5000],
          ['sessions', 1],
        ],
      ),
    ).toBe(
      [
        'collection  documents',
        '----------  ---------',
        'sales            5000',
        'sessions            1',
      ].join('\n'),
    );
  });
});
