// One render function per card. Each takes the snapshot (see src/serve/dashboard/snapshot.ts)
// and rebuilds its card from it; the page holds no other state than the selected reject.
import { ago, count, duration, empty, fill, h, pill, rate, table, time } from './dom.js';

const PHASES = ['mongo', 'dual_write', 'shadow_read', 'pg_read', 'pg_primary', 'pg_only'];

export function renderTiles(s) {
  const collections = s.backfill.collections;
  const loading = collections.filter((c) => !c.complete);
  const done = collections.length - loading.length;
  const speed = loading.reduce((sum, c) => sum + (c.docsPerSecond ?? 0), 0);
  const read = collections.reduce((sum, c) => sum + c.read, 0);
  const last = s.verify.find((run) => run.verdict !== null);
  const verdictTone = !last
    ? ''
    : last.verdict === 'complete'
      ? 'good'
      : last.verdict === 'incomplete'
        ? 'warn'
        : 'bad';
  const domains = s.runtime.domains;
  const tiles = [
    tile(
      'Backfill',
      collections.length ? `${done}/${collections.length}` : '–',
      collections.length ? `collections loaded, ${count(read)} docs read` : 'nothing loaded yet',
      loading.length ? '' : collections.length ? 'good' : '',
    ),
    tile(
      'Docs/s',
      loading.length ? rate(speed) : '–',
      loading.length ? `${loading.length} collection${loading.length === 1 ? '' : 's'} loading` : 'idle',
    ),
    tile(
      'Last verify',
      last ? last.verdict : 'never',
      last ? `run ${last.id}, ${ago(last.finishedAt)}` : 'run ferry verify',
      verdictTone,
    ),
    tile(
      'Domains',
      domains.length ? String(domains.length) : '–',
      domains.length ? domains.map((d) => `${d.name}: ${d.phase}`).join(', ') : 'none registered',
    ),
    tile(
      'Open gaps',
      count(s.runtime.gaps.open),
      s.runtime.gaps.open ? `oldest ${ago(s.runtime.gaps.list.at(-1)?.firstSeen)}` : 'stores in step',
      s.runtime.gaps.open ? 'warn' : 'good',
    ),
    tile(
      'Rejects',
      count(s.rejects.open),
      s.rejects.open ? 'accounted for, not loaded' : 'none open',
      s.rejects.open ? 'warn' : 'good',
    ),
  ];
  fill('tiles', tiles);
}

function tile(key, value, sub, tone = '') {
  return h(
    'div',
    { class: `tile ${tone}`, 'data-tile': key },
    h('div', { class: 'k' }, key),
    h('div', { class: 'v' }, value),
    h('div', { class: 's', title: sub }, sub),
  );
}

export function renderBackfill(s) {
  const { collections, runs } = s.backfill;
  const running = runs.find((r) => r.status === 'running');
  fill(
    'backfill-sub',
    running
      ? `run ${running.id} (${running.command}) running since ${new Date(running.startedAt).toLocaleTimeString('en-GB')}`
      : runs[0]
        ? `last run ${runs[0].id}: ${runs[0].status}`
        : '',
  );
  if (collections.length === 0)
    return fill(
      'backfill-body',
      empty('No backfill yet: start one with `ferry backfill` or `ferry migrate`.'),
    );
  const rows = collections.map((c) => {
    const share = c.total ? Math.min(1, c.read / Math.max(1, c.total)) : null;
    const bar = h(
      'div',
      { class: `bar ${c.complete ? 'done' : share === null ? 'unknown' : ''}` },
      h('span', { style: `width:${share === null ? 30 : (share * 100).toFixed(1)}%` }),
    );
    const state = c.complete
      ? c.rejected > 0
        ? pill('incomplete', 'warn')
        : pill('loaded', 'good')
      : c.runId !== null && runs.find((r) => r.id === c.runId)?.status === 'running'
        ? pill('loading', 'info')
        : pill('partial', 'warn');
    return [
      h('span', {}, h('b', {}, c.collection), ' ', h('span', { class: 'muted' }, c.schema)),
      state,
      h(
        'div',
        { class: 'bar-cell' },
        bar,
        h('span', { class: 'pct' }, share === null ? '' : `${(share * 100).toFixed(1)} %`),
      ),
      h('span', { 'data-field': 'read' }, count(c.read)),
      c.total === null
        ? h('span', { class: 'muted', title: 'this source gives no count in advance' }, 'unknown')
        : count(c.total),
      c.complete ? '–' : rate(c.docsPerSecond),
      c.complete ? 'done' : duration(c.etaSeconds),
      c.rejected > 0 ? h('span', { class: 'pill warn' }, count(c.rejected)) : '0',
      time(c.updatedAt),
    ];
  });
  fill(
    'backfill-body',
    table(
      ['collection', 'state', 'progress', '#read', '#of', '#docs/s', '#ETA', '#rejects', 'updated'],
      rows,
      (i) => ({
        'data-collection': `${collections[i].schema}.${collections[i].collection}`,
        'data-read': collections[i].read,
        'data-complete': String(collections[i].complete),
      }),
    ),
  );
}

function verdictPill(run) {
  if (run.verdict === null) return pill('running', 'info');
  if (run.verdict === 'complete') return pill('complete', 'good');
  if (run.verdict === 'incomplete') return pill('incomplete', 'warn');
  return pill('mismatch', 'bad');
}

export function renderVerify(s) {
  const runs = s.verify;
  fill('verify-sub', runs.length ? `${runs.length} latest run${runs.length === 1 ? '' : 's'}` : '');
  if (runs.length === 0) return fill('verify-body', empty('No verification yet: run `ferry verify`.'));
  const [latest, ...older] = runs;
  const body = [runCard(latest, true)];
  if (older.length)
    body.push(
      table(
        ['run', 'level', 'verdict', 'finished', 'report'],
        older.map((run) => [
          `#${run.id}`,
          run.level,
          verdictPill(run),
          time(run.finishedAt),
          h('a', { href: run.reportUrl, target: '_blank', rel: 'noopener' }, 'HTML report'),
        ]),
        (i) => ({ 'data-run': older[i].id }),
      ),
    );
  fill('verify-body', body);
}

function runCard(run) {
  const diffs = run.differences.length
    ? h(
        'div',
        { class: 'diffs scroll' },
        table(
          ['collection', '_id', 'field', 'difference'],
          run.differences.map((d) => [
            d.collection,
            h('code', { 'data-field': 'id' }, d.id),
            h('code', { 'data-field': 'path' }, d.path || '(whole document)'),
            h(
              'span',
              { 'data-field': 'kind' },
              d.kind === 'content'
                ? `content: ${d.fieldKind.replaceAll('_', ' ')}`
                : d.kind.replaceAll('_', ' '),
            ),
          ]),
          (i) => ({ 'data-difference': `${run.differences[i].id} ${run.differences[i].path}` }),
        ),
        run.moreDifferences
          ? h('p', { class: 'muted' }, `… and ${count(run.moreDifferences)} more in the report`)
          : null,
      )
    : null;
  return h(
    'div',
    { class: 'run', 'data-run': run.id },
    h(
      'div',
      { class: 'run-head' },
      h('b', {}, `Run #${run.id}`),
      verdictPill(run),
      h(
        'span',
        { class: 'muted grow' },
        `${run.level} · schema ${run.schema} · ${run.finishedAt ? `finished ${ago(run.finishedAt)}` : `started ${ago(run.startedAt)}`}`,
      ),
      h('a', { href: run.reportUrl, target: '_blank', rel: 'noopener' }, 'HTML report ↗'),
    ),
    h(
      'div',
      { class: diffs ? 'run-body' : '' },
      table(
        ['collection', '#source', '#target', '#matched', '#missing', '#extra', '#differ', '#rejected'],
        run.collections.map((c) => [
          h('span', {}, c.ok ? '' : '⚠ ', c.collection),
          count(c.sourceCount),
          count(c.targetCount),
          count(c.matched),
          count(c.missing),
          count(c.extra),
          count(c.content),
          count(c.rejected),
        ]),
      ),
      diffs,
    ),
  );
}

export function renderDomains(s) {
  const { domains, events } = s.runtime;
  fill('domains-sub', domains.length ? `${domains.length} domain${domains.length === 1 ? '' : 's'}` : '');
  if (domains.length === 0)
    return fill(
      'domains-body',
      empty('No domain registered yet: declare `domains` in ferry.config.ts; the runtime registers them.'),
    );
  fill(
    'domains-body',
    domains.map((d) => {
      const current = PHASES.indexOf(d.phase);
      const last = events.filter((e) => e.domain === d.name).at(-1);
      const figures = last ? Object.entries(last.figures) : [];
      return h(
        'div',
        { class: 'domain', 'data-domain': d.name, 'data-phase': d.phase },
        h(
          'div',
          { class: 'domain-head' },
          h('b', {}, d.name),
          h('span', { class: 'muted grow' }, d.collections.join(', ')),
          h('span', { class: 'muted' }, `since ${ago(d.changedAt)}`),
        ),
        h(
          'div',
          { class: 'timeline' },
          PHASES.map((p, i) =>
            h(
              'div',
              { class: `step ${i < current ? 'passed' : i === current ? 'current' : ''}` },
              p.replace('_', ' '),
            ),
          ),
        ),
        last
          ? h(
              'div',
              { class: 'muted' },
              `last change by ${last.actor}: “${last.reason}”`,
              figures.length
                ? h(
                    'div',
                    { class: 'figures' },
                    'gates: ',
                    figures.map(([k, v]) => h('span', { class: 'figure' }, `${k} = ${JSON.stringify(v)}`)),
                  )
                : ' (no gate figures recorded)',
            )
          : null,
      );
    }),
  );
}

export function renderAudit(s) {
  const events = [...s.runtime.events].reverse();
  if (events.length === 0) return fill('audit-body', empty('No phase change recorded yet.'));
  fill(
    'audit-body',
    h(
      'div',
      { class: 'scroll' },
      table(
        ['when', 'domain', 'change', 'who', 'why', 'gate figures'],
        events.map((e) => [
          time(e.at),
          e.domain,
          `${e.from ?? '(new)'} → ${e.to}`,
          e.actor,
          h('span', { class: 'wrap' }, e.reason),
          h(
            'div',
            { class: 'figures' },
            Object.entries(e.figures).map(([k, v]) =>
              h('span', { class: 'figure' }, `${k} = ${JSON.stringify(v)}`),
            ),
          ),
        ]),
      ),
    ),
  );
}

export function renderGaps(s) {
  const { open, list } = s.runtime.gaps;
  fill('gaps-sub', open ? `${count(open)} open` : 'none open');
  if (list.length === 0)
    return fill('gaps-body', empty('No open gap: every acknowledged write reached the other store.'));
  fill(
    'gaps-body',
    h(
      'div',
      { class: 'scroll' },
      table(
        ['collection', '_id', 'operation', 'error', '#tries', 'first seen'],
        list.map((g) => [
          g.collection,
          h('code', {}, g.docId),
          g.operation,
          h(
            'span',
            { class: 'wrap' },
            h('code', { class: 'error-code' }, g.errorCode ?? '–'),
            h('br'),
            h('span', { class: 'muted' }, g.errorMessage ?? ''),
          ),
          count(g.attempts),
          time(g.firstSeen),
        ]),
        (i) => ({ 'data-gap': list[i].docId }),
      ),
    ),
  );
}

export function renderShadow(s) {
  const shadow = s.runtime.shadow;
  if (shadow === null)
    return fill(
      'shadow-body',
      h(
        'div',
        { class: 'note', 'data-empty': 'shadow' },
        'Shadow reads: none recorded yet (no shadow-read table on this target).',
      ),
    );
  if (shadow.recent.length === 0)
    return fill('shadow-body', h('p', { class: 'muted' }, 'Shadow reads: no mismatch recorded.'));
  const columns = Object.keys(shadow.recent[0]);
  fill(
    'shadow-body',
    h('h3', { class: 'sub' }, `Shadow mismatches: ${count(shadow.total)}`),
    h(
      'div',
      { class: 'scroll' },
      table(
        columns,
        shadow.recent.map((row) =>
          columns.map((c) => (typeof row[c] === 'object' ? JSON.stringify(row[c]) : String(row[c] ?? ''))),
        ),
      ),
    ),
  );
}

export function renderRejects(s, selected, onSelect) {
  const { open, latest } = s.rejects;
  fill(
    'rejects-sub',
    open
      ? `${count(open)} open${open > latest.length ? `, newest ${latest.length} shown` : ''}`
      : 'none open',
  );
  if (latest.length === 0)
    return fill('rejects-body', empty('No open reject: every document read was loaded.'));
  fill(
    'rejects-body',
    h(
      'div',
      { class: 'scroll' },
      table(
        ['#', 'collection', '_id', 'stage', 'code', 'reason'],
        latest.map((r) => [
          String(r.id),
          r.collection,
          h('code', {}, r.docId ?? '–'),
          r.stage,
          h('code', {}, r.code),
          h('span', { class: 'wrap' }, r.reason),
        ]),
        (i) => ({
          class: `clickable ${latest[i].id === selected ? 'selected' : ''}`,
          'data-reject': latest[i].id,
          onclick: () => onSelect(latest[i].id),
        }),
      ),
    ),
  );
}

export function renderRejectDetail(reject, showValues) {
  if (!reject) return fill('reject-detail', h('p', { class: 'muted' }, 'Select a reject to see its detail.'));
  const where = reject.file
    ? `${reject.file}${reject.line ? `, line ${reject.line}` : ''}${reject.offset !== null ? `, byte ${count(reject.offset)}` : ''}`
    : null;
  const rows = [
    ['reject', `#${reject.id} (run ${reject.runId ?? '–'})`],
    ['collection', `${reject.schema}.${reject.collection}`],
    ['_id', h('code', {}, reject.docId ?? '–')],
    ['stage', reject.stage],
    ['code', h('code', {}, reject.code)],
    ['reason', reject.reason],
    ['field', reject.path ? h('code', {}, reject.path) : '–'],
    where ? ['source', where] : null,
    ['recorded', time(reject.createdAt)],
  ].filter(Boolean);
  fill(
    'reject-detail',
    h(
      'dl',
      { 'data-reject-detail': reject.id },
      rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
    ),
    reject.raw !== undefined
      ? [h('h3', { class: 'sub' }, `document (${reject.rawEncoding})`), h('pre', {}, reject.raw)]
      : h(
          'p',
          { class: 'muted' },
          showValues ? '' : 'The document is hidden: start `ferry serve --show-values` to see values.',
        ),
  );
}
