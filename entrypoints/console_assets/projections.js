// Projections for operators: the state, position, lag and dead letters of each, as GET /health
// reports them, refreshed every few seconds while the screen is open.

import {api} from './api.js';
import {fill, h, show, status, table, time} from './dom.js';

const POLL_MS = 2000;

const lag = (row) => `${row.lagEvents} events · ${Number(row.lagSeconds || 0).toFixed(1)} s`;

function deadLetters(rows) {
  const letters = rows.flatMap((row) => (row.deadLetters || []).map((d) => ({...d, projection: row.name})));
  if (!letters.length) return h('p', {}, 'No dead letters: every projection applies every event.');
  return table('Dead letters (the projection stopped on each)', [
    ['Projection', (d) => d.projection], ['Position', (d) => show(d.position)],
    ['Event', (d) => show(d.eventType || d.event_type)], ['Error', (d) => show(d.error)], ['At', (d) => time(d.at)],
  ], letters);
}

function projectionsTable(rows) {
  return table('Projections', [
    ['Name', (r) => h('strong', {}, r.name)], ['State', (r) => show(r.state)],
    ['Position', (r) => `${r.position} of ${r.head}`], ['Lag', lag],
    ['Dead letters', (r) => String((r.deadLetters || []).length)], ['Last error', (r) => show(r.lastError)],
  ], rows);
}

/** Draw the projections screen; returns {leave} that stops the refresh. */
export function renderProjections(main) {
  document.title = 'Projections · Customer console';
  const body = h('div', {}, status('Loading…'));
  const stamp = h('p', {class: 'muted'});
  fill(main, h('h1', {tabindex: -1}, 'Projections'), stamp, body);
  let timer = null;
  let controller = new AbortController();

  async function refresh() {
    clearTimeout(timer);
    if (!controller) return;  // the operator left this screen
    try {
      const {data} = await api('/health', {signal: controller.signal});
      const rows = data.projections || [];
      stamp.textContent = `Refreshed ${new Date().toLocaleTimeString()}; the service is ${data.status}.` +
        (data.runsProjections === false ? ' This process does not run the projections.' : '');
      fill(body, rows.length ? projectionsTable(rows) : h('p', {}, 'No projection runs in this process.'),
        h('h2', {}, 'Dead letters'), deadLetters(rows));
    } catch (error) {
      if (error.name === 'AbortError') return;
      fill(body, status(error.message, 'error'));
    }
    timer = setTimeout(refresh, POLL_MS);
  }

  refresh();
  return {leave() { clearTimeout(timer); controller.abort(); controller = null; }};
}
