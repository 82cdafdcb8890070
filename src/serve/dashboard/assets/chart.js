// The outbox chart: depth (rows waiting) and lag (age of the oldest waiting row) over time,
// drawn with uPlot, which vendor/uplot.js puts on `window.uPlot` (served from node_modules).
import { fill, h } from './dom.js';

let plot = null;

function options(width) {
  return {
    width,
    height: 170,
    cursor: { drag: { x: false, y: false } },
    legend: { live: true },
    scales: { x: { time: true }, depth: { auto: true }, lag: { auto: true } },
    axes: [
      { stroke: '#6b7280', grid: { stroke: '#f0f2f5' } },
      { scale: 'depth', stroke: '#2563eb', grid: { stroke: '#f0f2f5' }, size: 48 },
      {
        scale: 'lag',
        side: 1,
        stroke: '#b45309',
        grid: { show: false },
        size: 44,
        values: (_u, ticks) => ticks.map((t) => `${t}s`),
      },
    ],
    series: [
      {},
      { label: 'depth (rows)', scale: 'depth', stroke: '#2563eb', width: 2, fill: 'rgba(37,99,235,0.08)' },
      {
        label: 'lag (s)',
        scale: 'lag',
        stroke: '#d97706',
        width: 2,
        value: (_u, v) => (v === null ? '–' : `${v.toFixed(1)} s`),
      },
    ],
  };
}

export function renderOutbox(s) {
  const container = document.getElementById('outbox-chart');
  const outbox = s.runtime.outbox;
  if (outbox === null) {
    plot?.destroy();
    plot = null;
    container.replaceChildren();
    fill('outbox-sub', '');
    fill(
      'outbox-body',
      h(
        'div',
        { class: 'note', 'data-empty': 'outbox' },
        'No outbox yet: this target has no ferry.outbox table (it comes with the pg_primary phase).',
      ),
    );
    return;
  }
  const lag = outbox.lagSeconds === null ? '–' : `${outbox.lagSeconds.toFixed(1)} s`;
  const retrying = outbox.retrying === null ? '' : `, ${outbox.retrying} retrying`;
  const dead = outbox.dead === null ? '' : `, ${outbox.dead} dead`;
  fill('outbox-sub', `depth ${outbox.depth}, lag ${lag}${retrying}${dead}`);
  fill('outbox-body');
  const history = s.outboxHistory;
  const data = [
    history.map((p) => p.at / 1000),
    history.map((p) => p.depth),
    history.map((p) => p.lagSeconds),
  ];
  if (typeof window.uPlot !== 'function') {
    fill('outbox-body', h('p', { class: 'muted' }, 'The chart library did not load.'));
    return;
  }
  if (plot === null) plot = new window.uPlot(options(Math.max(300, container.clientWidth)), data, container);
  else plot.setData(data);
}

// Follow the card's width, so the chart stays inside it at any window size.
window.addEventListener('resize', () => {
  if (plot)
    plot.setSize({ width: Math.max(300, document.getElementById('outbox-chart').clientWidth), height: 170 });
});
