// The dashboard page: one EventSource to api/dashboard/events; each `snapshot` event redraws
// every card. URLs are relative, so the page also works when the plugin sits under a prefix.

import { renderOutbox } from './chart.js';
import { fill, h } from './dom.js';
import {
  renderAudit,
  renderBackfill,
  renderDomains,
  renderGaps,
  renderRejectDetail,
  renderRejects,
  renderShadow,
  renderTiles,
  renderVerify,
} from './sections.js';

let selectedReject = null;
let latest = null;

function setLive(state, text) {
  const live = document.getElementById('live');
  live.dataset.state = state;
  fill('live-text', text);
}

async function selectReject(id) {
  selectedReject = id;
  if (latest) renderRejects(latest, selectedReject, selectReject);
  const response = await fetch(`api/dashboard/rejects/${encodeURIComponent(id)}`);
  if (!response.ok) return renderRejectDetail(null);
  renderRejectDetail(await response.json(), latest?.showValues === true);
}

function render(snapshot) {
  latest = snapshot;
  document.body.dataset.generatedAt = snapshot.generatedAt;
  fill('target', snapshot.target);
  renderTiles(snapshot);
  renderBackfill(snapshot);
  renderVerify(snapshot);
  renderDomains(snapshot);
  renderAudit(snapshot);
  renderGaps(snapshot);
  renderOutbox(snapshot);
  renderShadow(snapshot);
  renderRejects(snapshot, selectedReject, selectReject);
  fill(
    'updated',
    h(
      'span',
      {},
      `updated ${new Date(snapshot.generatedAt).toLocaleTimeString('en-GB')}`,
      snapshot.ferryState ? '' : ' · this target has no Ferry state yet',
    ),
  );
}

const events = new EventSource('api/dashboard/events');
events.addEventListener('open', () => setLive('live', 'live'));
events.addEventListener('snapshot', (event) => {
  setLive('live', 'live');
  render(JSON.parse(event.data));
});
events.addEventListener('problem', (event) => {
  const { message } = JSON.parse(event.data);
  setLive('problem', 'stale');
  fill('updated', `cannot read the target: ${message}`);
});
// EventSource reconnects by itself (the server asks for 2 s); say so meanwhile.
events.addEventListener('error', () => setLive('offline', 'reconnecting'));
