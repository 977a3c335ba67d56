// Imports: a CSV (header row) or NDJSON file of customers, sent as it is, then followed until it
// is done: rows processed of the file's lines, created, updated, unchanged, failed, and each
// failed row's line, field and reason.

import {api, query} from './api.js';
import {fill, h, show, status, table} from './dom.js';
import {field, showProblem, summaryBox} from './forms.js';

const POLL_MS = 500;
const MEDIA = {csv: 'text/csv', ndjson: 'application/x-ndjson', jsonl: 'application/x-ndjson'};

function progressView(job) {
  const value = job.status === 'done' ? job.total : Math.min(job.processed, job.total || job.processed);
  const share = job.total ? Math.floor((value / job.total) * 100) : (job.status === 'done' ? 100 : 0);
  return h('div', {class: 'card'},
    h('p', {}, h('strong', {}, job.dryRun ? 'Dry run ' : 'Import '), `${job.status}`,
      job.reason ? ` — ${job.reason}` : ''),
    h('progress', {max: 100, value: share, 'aria-label': 'Import progress'}),
    h('p', {class: 'progress-text'}, `${share} % · ${job.processed} of ${job.total} rows`),
    h('dl', {class: 'facts'}, [['Created', job.created], ['Updated', job.updated], ['Unchanged', job.unchanged],
      ['Failed', job.failed]].flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, show(v))])),
    (job.errors || []).length ? table('Rows that failed (the CSV header is line 1)', [
      ['Line', (e) => String(e.line)], ['Field', (e) => e.field], ['Why', (e) => e.message]], job.errors) : null);
}

export function renderImports(main, params) {
  document.title = 'Imports · Customer console';
  const file = h('input', {type: 'file', name: 'file', accept: '.csv,.ndjson,.jsonl,text/csv,application/x-ndjson', required: true});
  const dry = h('input', {type: 'checkbox', name: 'dryRun', id: 'dry-run'});
  const form = h('form', {class: 'inline'}, summaryBox(),
    field('File (CSV with a header row, or NDJSON)', file, 'fields as the customer resource, plus externalId'),
    h('div', {class: 'check'}, dry, h('label', {for: 'dry-run'}, 'Dry run (check every row, change nothing)')),
    h('button', {type: 'submit'}, 'Import'));
  const out = h('div', {'aria-live': 'polite'});
  fill(main, h('h1', {tabindex: -1}, 'Import customers'), form, h('h2', {}, 'Progress'), out);
  let timer = null;
  let controller = new AbortController();

  async function follow(id) {
    clearTimeout(timer);
    if (!controller) return;
    try {
      const {data} = await api(`/imports/${encodeURIComponent(id)}`, {signal: controller.signal});
      fill(out, progressView(data));
      if (data.status === 'running') timer = setTimeout(() => follow(id), POLL_MS);
    } catch (error) {
      if (error.name !== 'AbortError') fill(out, status(error.message, 'error'));
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = file.files[0];
    if (!chosen) { showProblem(form, {errors: [{field: 'file', message: 'Choose a file first.'}]}); return; }
    const type = MEDIA[chosen.name.split('.').pop().toLowerCase()] || chosen.type || 'text/csv';
    try {
      const {data} = await api(`/imports${query([['dryRun', dry.checked ? 'true' : '']])}`,
        {method: 'POST', raw: chosen, contentType: type});
      history.replaceState({}, '', `/console?screen=imports&id=${encodeURIComponent(data.id)}`);
      follow(data.id);
    } catch (error) {
      showProblem(form, error);
    }
  });
  if (params.get('id')) follow(params.get('id'));
  else fill(out, h('p', {}, 'No import started from this page yet.'));
  return {leave() { clearTimeout(timer); controller.abort(); controller = null; }};
}
