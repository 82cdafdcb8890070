import { describe, expect, it } from 'vitest';
import { createProgress } from '../../../src/cli/progress.js';
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
