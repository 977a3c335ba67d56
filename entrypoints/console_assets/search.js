// Search: every list filter, sort and cursor paging; results as you type, debounced, with the
// request before aborted (one request in flight, none for an unchanged query).

import {api, can, query} from './api.js';
import {fill, fullName, h, show, status, table, time} from './dom.js';
import {clearErrors, field, input, select, showProblem, summaryBox} from './forms.js';

const TYPES = ['regular', 'unregistered', 'new', 'anonymous'];
const STATES = ['active', 'deleted', 'erased'];
const SORTS = [['-createdAt', 'Newest first'], ['createdAt', 'Oldest first'],
  ['-updatedAt', 'Recently updated'], ['lastName', 'Last name A–Z'], ['-lastName', 'Last name Z–A'],
  ['firstName', 'First name A–Z'], ['email', 'Email A–Z'], ['-lastVisitAt', 'Latest visit']];
const DEBOUNCE_MS = 250;
const SCALARS = ['q', 'type', 'state', 'email', 'phone', 'consent', 'createdFrom', 'createdTo', 'sort', 'limit'];

/** ISO instant -> value of a datetime-local input (local time), and back. */
const toLocalInput = (iso) => {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
};
const fromLocalInput = (value) => (value ? new Date(value).toISOString() : '');

/** Page sizes offered, plus the one a shared link asked for (1–100). */
function perPage(asked) {
  const sizes = ['20', '50', '100'];
  const n = Number(asked);
  if (Number.isInteger(n) && n >= 1 && n <= 100 && !sizes.includes(String(n))) sizes.push(String(n));
  return sizes.sort((a, b) => a - b).map((v) => [v, v]);
}

function buildForm(params) {
  const q = input('q', {type: 'search', value: params.get('q') || '', autocomplete: 'off',
    placeholder: 'name, email or phone digits'});
  const opts = (values, blank) => [['', blank], ...values.map((v) => [v, v])];
  const more = h('details', {class: 'filters', open: SCALARS.slice(1, 7).some((k) => params.get(k)) || params.has('tag') || params.has('attr')},
    h('summary', {}, 'Filters'),
    h('div', {class: 'grid'},
      field('Type', select('type', opts(TYPES, 'Any type'), params.get('type') || '')),
      field('State', select('state', STATES.map((v) => [v, v]), params.get('state') || 'active')),
      field('Email', input('email', {type: 'email', value: params.get('email') || ''})),
      field('Phone', input('phone', {type: 'tel', value: params.get('phone') || ''})),
      field('Tags', input('tag', {value: params.getAll('tag').join(', ')}), 'comma-separated; all must match'),
      field('Attributes', input('attr', {value: params.getAll('attr').join(', ')}), 'key:value, comma-separated'),
      field('Consent granted', input('consent', {value: params.get('consent') || ''}), 'a purpose, e.g. marketing_email'),
      field('Created from', input('createdFrom', {type: 'datetime-local', step: 1, value: toLocalInput(params.get('createdFrom'))})),
      field('Created to', input('createdTo', {type: 'datetime-local', step: 1, value: toLocalInput(params.get('createdTo'))}))));
  return h('form', {role: 'search', class: 'search-form', 'aria-label': 'Customers'},
    h('div', {class: 'search-row'},
      field('Search customers', q, 'Press / to come back here, ↓ to reach the results'),
      field('Sort', select('sort', SORTS, params.get('sort') || '-createdAt')),
      field('Per page', select('limit', perPage(params.get('limit')), params.get('limit') || '20'))),
    more, summaryBox());
}

/** The API query pairs of the form (lists split on commas). */
function pairs(form) {
  const value = (name) => form.elements.namedItem(name).value.trim();
  const list = (name) => value(name).split(',').map((s) => s.trim()).filter(Boolean);
  return [['q', value('q')], ['type', value('type')], ['state', value('state') === 'active' ? '' : value('state')],
    ['email', value('email')], ['phone', value('phone')], ['tag', list('tag')], ['attr', list('attr')],
    ['consent', value('consent')], ['createdFrom', fromLocalInput(value('createdFrom'))],
    ['createdTo', fromLocalInput(value('createdTo'))],
    ['sort', value('sort') === '-createdAt' ? '' : value('sort')], ['limit', value('limit') === '20' ? '' : value('limit')]];
}

function resultsTable(items) {
  const link = (c) => h('a', {href: `/console?customer=${encodeURIComponent(c.id)}`, 'data-nav': true, class: 'result'}, fullName(c));
  return table('Matching customers', [
    ['Name', link], ['Email', (c) => show(c.email)], ['Phone', (c) => show(c.phone)],
    ['Type', (c) => c.type], ['State', (c) => c.state], ['Created', (c) => time(c.createdAt)],
  ], items);
}

/** Draw the search screen into `main`; returns {leave} that aborts what is in flight. */
export function renderSearch(main, params) {
  document.title = 'Search · Customer console';
  const form = buildForm(params);
  const live = h('div', {class: 'live', 'aria-live': 'polite'});
  const results = h('div', {class: 'results'});
  const pager = h('nav', {class: 'pager', 'aria-label': 'Result pages'});
  const create = can('write') ? h('a', {href: '/console?screen=new', 'data-nav': true, class: 'button-link'}, 'New customer') : null;
  fill(main, h('div', {class: 'title-row'}, h('h1', {tabindex: -1}, 'Customers'), create), form, live, results, pager);

  let controller = null;
  let timer = null;
  let lastKey = null;
  const cursors = [''];  // cursors[i] opens page i+1

  async function run({page = 0, force = false} = {}) {
    clearTimeout(timer);
    const base = pairs(form);
    const key = query(base);
    if (!force && key === lastKey && page === cursors.length - 1) return;
    if (key !== lastKey) cursors.splice(1);
    lastKey = key;
    history.replaceState({}, '', `/console${key}`);
    if (controller) controller.abort();
    controller = new AbortController();
    const cursor = cursors[page] || '';
    live.textContent = 'Searching…';
    try {
      const {data} = await api(`/customers${query([...base, ['cursor', cursor]])}`, {signal: controller.signal});
      clearErrors(form);
      cursors.splice(page + 1, cursors.length, ...(data.nextCursor ? [data.nextCursor] : []));
      live.textContent = `${data.total} customer${data.total === 1 ? '' : 's'} found` + (page ? `, page ${page + 1}` : '');
      fill(results, data.items.length ? resultsTable(data.items) : h('p', {}, 'No customer matches.'));
      drawPager(page, Boolean(data.nextCursor));
    } catch (error) {
      if (error.name === 'AbortError') return;
      live.textContent = '';
      fill(results);
      fill(pager);
      if (error.status === 400 || error.status === 422) showProblem(form, error);
      else fill(results, status(error.message, 'error'));
    }
  }

  function drawPager(page, hasNext) {
    fill(pager,
      page > 0 ? h('button', {type: 'button', class: 'secondary', onclick: () => run({page: page - 1, force: true})}, '← Previous page') : null,
      hasNext ? h('button', {type: 'button', class: 'secondary', onclick: () => run({page: page + 1, force: true})}, 'Next page →') : null);
  }

  form.addEventListener('submit', (event) => { event.preventDefault(); run(); });
  form.addEventListener('input', (event) => {
    if (event.target.tagName === 'SELECT') return;
    clearTimeout(timer);
    timer = setTimeout(run, DEBOUNCE_MS);
  });
  form.addEventListener('change', (event) => { if (event.target.tagName === 'SELECT') run(); });
  const unbind = bindKeys(form, results);
  run({force: true});
  return {leave() { clearTimeout(timer); if (controller) controller.abort(); unbind(); }};
}

/** '/' anywhere focuses the search box, ↓ from it reaches the first result; returns unbind. */
function bindKeys(form, results) {
  const q = form.elements.namedItem('q');
  q.addEventListener('keydown', (event) => {
    const first = results.querySelector('a.result');
    if (event.key === 'ArrowDown' && first) { event.preventDefault(); first.focus(); }
  });
  results.addEventListener('keydown', moveBetweenResults);
  const slash = (event) => {
    if (event.key !== '/' || /INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName)) return;
    event.preventDefault();
    q.focus();
  };
  document.addEventListener('keydown', slash);
  q.focus();
  return () => document.removeEventListener('keydown', slash);
}

/** ↑/↓ move between result links; ↑ from the first goes back to the search box. */
function moveBetweenResults(event) {
  if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
  const links = [...event.currentTarget.querySelectorAll('a.result')];
  const index = links.indexOf(document.activeElement);
  if (index < 0) return;
  event.preventDefault();
  const next = index + (event.key === 'ArrowDown' ? 1 : -1);
  if (next >= 0 && next < links.length) links[next].focus();
  else if (next < 0) document.querySelector('input[name="q"]').focus();
}
