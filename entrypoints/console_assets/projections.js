// Projections for operators (`projections_admin`): the state, generation, position, lag and
// dead letters of each, as GET /admin/projections reports them, refreshed while the screen is
// open; a blue/green rebuild started per projection and followed live to 100 %.

import {api} from './api.js';
import {fill, h, show, status, table, time} from './dom.js';

const POLL_MS = 2000;
const FOLLOW_MS = 400;  // while a rebuild runs
const REBUILDABLE = new Set(['read_model', 'added']);

const lag = (row) => `${row.lagEvents} events · ${Number(row.lagSeconds || 0).toFixed(1)} s`;

function deadLetters(rows) {
  const letters = rows.flatMap((row) => (row.deadLetters || []).map((d) => ({...d, projection: row.name})));
  if (!letters.length) return h('p', {}, 'No dead letters: every projection applies every event.');
  return table('Dead letters (the projection stopped on each)', [
    ['Projection', (d) => d.projection], ['Position', (d) => show(d.position)],
    ['Event', (d) => show(d.eventType)], ['Error', (d) => show(d.error)], ['At', (d) => time(d.at)],
  ], letters);
}

/** A running rebuild's share of the log (100 when it has finished since it was started here). */
function share(progress) {
  if (!progress) return 100;
  return progress.total ? Math.min(100, Math.floor((progress.processed / progress.total) * 100)) : 0;
}

function rebuildCell(row, started, onRebuild) {
  const progress = row.rebuild;
  if (progress || started.has(row.name)) {
    const done = share(progress);
    const eta = progress && progress.eta !== null ? `, about ${Math.ceil(progress.eta)} s left` : '';
    const rate = progress ? ` · ${Math.round(progress.eventsPerSecond)} events/s${eta}` : ' · done';
    return h('div', {class: 'rebuild'},
      h('progress', {max: 100, value: done, 'aria-label': `Rebuild of ${row.name}`}),
      h('span', {class: 'progress-text', dataset: {projection: row.name}}, `${done} %${rate}`));
  }
  if (!REBUILDABLE.has(row.kind)) return '—';
  return h('button', {type: 'button', class: 'secondary', 'aria-label': `Rebuild ${row.name}`,
    onclick: () => onRebuild(row.name)}, 'Rebuild');
}

function projectionsTable(data, started, onRebuild) {
  return table('Projections', [
    ['Name', (r) => h('strong', {}, r.name)], ['Kind', (r) => `${r.kind} · ${r.origin}`],
    ['State', (r) => show(r.state)], ['Generation', (r) => show(r.generation)],
    ['Position', (r) => `${r.position} of ${data.head}`], ['Lag', lag],
    ['Dead letters', (r) => String((r.deadLetters || []).length)],
    ['Rebuild', (r) => rebuildCell(r, started, onRebuild)],
  ], data.items);
}

/** Draw the projections screen; returns {leave} that stops the refresh. */
export function renderProjections(main) {
  document.title = 'Projections · Customer console';
  const body = h('div', {}, status('Loading…'));
  const stamp = h('p', {class: 'muted'});
  const live = h('p', {class: 'live', role: 'status', tabindex: -1});
  fill(main, h('h1', {tabindex: -1}, 'Projections'), stamp, live, body);
  const started = new Set();  // rebuilds started from this screen: shown until the operator leaves
  let timer = null;
  let controller = new AbortController();

  async function refresh() {
    clearTimeout(timer);
    if (!controller) return;  // the operator left this screen
    let running = false;
    try {
      const {data} = await api('/admin/projections', {signal: controller.signal});
      running = data.items.some((r) => r.rebuild);
      stamp.textContent = `Refreshed ${new Date().toLocaleTimeString()}; the log's head is at ${data.head}.`;
      fill(body, projectionsTable(data, started, rebuild), h('h2', {}, 'Dead letters'), deadLetters(data.items));
    } catch (error) {
      if (error.name === 'AbortError') return;
      fill(body, status(error.message, 'error'));
    }
    if (controller) timer = setTimeout(refresh, running ? FOLLOW_MS : POLL_MS);
  }

  async function rebuild(name) {
    try {
      await api(`/admin/projections/${encodeURIComponent(name)}/rebuild`, {method: 'POST'});
      started.add(name);
      live.textContent = `Rebuild of ${name} started.`;
    } catch (error) {
      live.textContent = error.message;
    }
    live.focus();  // the button gives way to the progress bar: keep the keyboard's place
    refresh();
  }

  refresh();
  return {leave() { clearTimeout(timer); controller.abort(); controller = null; }};
}
