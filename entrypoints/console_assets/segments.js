// Segments for campaigns: the tenant's segments with their counts; defining, redefining and
// removing one (roles with `analytics`), the filter written as JSON in the contract's filter
// language with each 422 placed on the field it names and a live count while it is typed
// (`POST /segments/preview`, debounced as search is); and a segment's members, paged by
// cursor (roles with `read`: an analyst sees definitions and counts, never a person).

import {api, can, query} from './api.js';
import {fill, fullName, h, show, status, table, time} from './dom.js';
import {clearErrors, field, input, markField, showProblem, summaryBox} from './forms.js';

const EXAMPLE = '{\n  "type": "regular",\n  "visitCountMin": 1\n}';
const DEBOUNCE_MS = 250;
const segmentPath = (id, rest = '') => `/segments/${encodeURIComponent(id)}${rest}`;
const screenUrl = (id) => `/console?screen=segments${id ? `&segment=${encodeURIComponent(id)}` : ''}`;

/** A problem's `filter.<key>` errors keep their key in the message (they share one textarea). */
function perFilterKey(problem) {
  const errors = (problem.errors || []).map(({field: name, message}) => (
    name && name.startsWith('filter.') ? {field: 'filter', message: `${name.slice(7)}: ${message}`}
      : {field: name, message}));
  return {message: problem.message, errors};
}

/** {filter} from the textarea, or {message} when it is not a JSON object. */
function readFilter(text) {
  let filter;
  try { filter = JSON.parse(text || '{}'); } catch (error) { return {message: `not JSON (${error.message})`}; }
  if (!filter || typeof filter !== 'object' || Array.isArray(filter)) {
    return {message: 'a JSON object, e.g. {"type": "regular"}'};
  }
  return {filter};
}

/** The form's body, or a problem when the filter is not a JSON object. */
function readForm(form) {
  const value = (name) => form.elements.namedItem(name).value;
  const {filter, message} = readFilter(value('filter'));
  if (message) return {problem: {errors: [{field: 'filter', message}]}};
  return {body: {name: value('name').trim(), description: value('description').trim() || null, filter}};
}

/**
 * The count of the filter as typed: 250 ms after the last key, the request before aborted,
 * nothing sent for an unchanged filter or one that is not JSON (its error is shown on the
 * field at once, as a 422 from the preview is). Returns {schedule(now), leave()}.
 */
function liveCount(form, output) {
  let timer = null;
  let controller = null;
  let last = null;
  async function run() {
    const {filter, message} = readFilter(form.elements.namedItem('filter').value);
    if (message) { last = null; output.textContent = ''; markField(form, 'filter', message); return; }
    const key = JSON.stringify(filter);
    if (key === last) return;
    last = key;
    if (controller) controller.abort();
    controller = new AbortController();
    output.textContent = 'Counting…';
    try {
      const {data} = await api('/segments/preview', {method: 'POST', body: {filter}, signal: controller.signal});
      markField(form, 'filter', null);
      output.textContent = `${data.count} customer${data.count === 1 ? ' matches' : 's match'} this filter now (not saved yet).`;
    } catch (error) {
      if (error.name === 'AbortError') return;
      output.textContent = '';
      const {errors} = perFilterKey(error);
      markField(form, 'filter', errors.length ? errors.map((e) => e.message).join('; ') : error.message);
    }
  }
  return {
    schedule(now = false) { clearTimeout(timer); timer = setTimeout(run, now ? 0 : DEBOUNCE_MS); },
    leave() { clearTimeout(timer); if (controller) controller.abort(); },
  };
}

/** The define/redefine form; `onSaved(segment)` after a 201/200. */
function definitionForm(onSaved) {
  const heading = h('h2', {}, 'Define a segment');
  const submit = h('button', {type: 'submit'}, 'Create segment');
  const cancel = h('button', {type: 'button', class: 'secondary', hidden: true}, 'Cancel editing');
  const note = h('p', {class: 'saved', role: 'status'});
  const count = h('p', {class: 'live filter-count', 'aria-live': 'polite'});
  const form = h('form', {class: 'inline segment-form', novalidate: true}, heading, summaryBox(),
    field('Name', input('name', {required: true, maxlength: 100, autocomplete: 'off'})),
    field('Description', input('description', {maxlength: 500, autocomplete: 'off'})),
    field('Filter (JSON)', h('textarea', {name: 'filter', rows: 7, spellcheck: false}, EXAMPLE),
      'keys combined with AND: q, type, state, tag, attr, consent, createdFrom, createdTo, visitCountMin, ' +
      'visitCountMax, lastVisitWithinDays, noVisitWithinDays, totalSpentMin {amount, currency}, tier, ' +
      'hasEmail, hasPhone, contactableFor'),
    count, h('div', {class: 'actions'}, submit, cancel), note);
  const live = liveCount(form, count);
  form.elements.namedItem('filter').addEventListener('input', () => live.schedule());
  let editing = null;
  const edit = (segment) => {
    editing = segment;
    heading.textContent = segment ? `Redefine “${segment.name}”` : 'Define a segment';
    submit.textContent = segment ? 'Save segment' : 'Create segment';
    cancel.hidden = !segment;
    form.elements.namedItem('name').value = segment ? segment.name : '';
    form.elements.namedItem('description').value = segment ? segment.description || '' : '';
    form.elements.namedItem('filter').value = segment ? JSON.stringify(segment.filter, null, 2) : EXAMPLE;
    clearErrors(form);
    live.schedule(true);
    if (segment) form.elements.namedItem('name').focus();
  };
  cancel.addEventListener('click', () => edit(null));
  live.schedule(true);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    note.textContent = '';
    const {body, problem} = readForm(form);
    if (problem) { showProblem(form, problem); return; }
    try {
      const path = editing ? segmentPath(editing.id) : '/segments';
      const {data} = await api(path, {method: editing ? 'PUT' : 'POST', body});
      edit(null);
      note.textContent = `Saved “${data.name}”: ${data.count} member${data.count === 1 ? '' : 's'}.`;
      onSaved(data);
    } catch (error) {
      showProblem(form, perFilterKey(error));
    }
  });
  return {form, edit, leave: live.leave};
}

/** Delete asks once more on the same button (no modal dialog to trap focus). */
function deleteButton(segment, onDeleted, announce) {
  const button = h('button', {type: 'button', class: 'danger'}, 'Delete');
  button.setAttribute('aria-label', `Delete ${segment.name}`);
  button.addEventListener('click', async () => {
    if (button.dataset.armed !== 'yes') {
      button.dataset.armed = 'yes';
      button.textContent = 'Confirm delete';
      button.setAttribute('aria-label', `Confirm: delete ${segment.name}`);
      return;
    }
    try {
      await api(segmentPath(segment.id), {method: 'DELETE'});
      announce(`Deleted “${segment.name}”.`);
      onDeleted();
    } catch (error) {
      announce(error.message);
    }
  });
  return button;
}

function segmentsTable(items, {edit, reload, announce}) {
  const mayDefine = can('analytics');
  const name = (s) => (can('read')
    ? h('a', {href: screenUrl(s.id), 'data-nav': true}, s.name) : h('strong', {}, s.name));
  const actions = (s) => h('div', {class: 'actions'},
    h('button', {type: 'button', class: 'secondary', 'aria-label': `Edit ${s.name}`, onclick: () => edit(s)}, 'Edit'),
    deleteButton(s, reload, announce));
  return table('Segments, oldest first, with their current member counts', [
    ['Name', name], ['Description', (s) => show(s.description)],
    ['Members', (s) => h('span', {class: 'count'}, String(s.count))],
    ['Filter', (s) => h('code', {class: 'filter'}, JSON.stringify(s.filter))],
    ...(mayDefine ? [['Actions', actions]] : []),
  ], items);
}

/** Draw the list (and the form for roles that may define); returns {leave}. */
function renderList(main) {
  document.title = 'Segments · Customer console';
  const listBox = h('div', {}, status('Loading…'));
  const live = h('p', {class: 'live', role: 'status'});
  const controller = new AbortController();
  const definition = can('analytics') ? definitionForm(() => load()) : null;
  const heading = h('h1', {tabindex: -1}, 'Segments');
  fill(main, heading, live, listBox, definition ? definition.form : null);
  // The deleted row (and its focused button) is gone: focus goes back to the heading.
  const deleted = () => load().then(() => heading.focus());

  async function load() {
    try {
      const {data} = await api('/segments', {signal: controller.signal});
      fill(listBox, data.items.length
        ? segmentsTable(data.items, {edit: definition && definition.edit, reload: deleted, announce})
        : h('p', {}, 'No segment is defined yet.'));
    } catch (error) {
      if (error.name !== 'AbortError') fill(listBox, status(error.message, 'error'));
    }
  }
  function announce(text) { live.textContent = text; }

  load();
  return {leave() { controller.abort(); if (definition) definition.leave(); }};
}

function membersTable(items) {
  const link = (c) => h('a', {href: `/console?customer=${encodeURIComponent(c.id)}`, 'data-nav': true}, fullName(c));
  return table('Members, newest customer first', [
    ['Name', link], ['Email', (c) => show(c.email)], ['Type', (c) => c.type],
    ['State', (c) => c.state], ['Created', (c) => time(c.createdAt)],
  ], items);
}

/** One segment: its definition, count and members page by page (cursor kept per page). */
function renderMembers(main, id, params) {
  const head = h('div', {}, status('Loading…'));
  const live = h('p', {class: 'live', 'aria-live': 'polite'});
  const results = h('div', {});
  const pager = h('nav', {class: 'pager', 'aria-label': 'Member pages'});
  const limit = params.get('limit') || '20';
  const controller = new AbortController();
  const cursors = [''];
  fill(main, h('p', {class: 'crumbs'}, h('a', {href: screenUrl(), 'data-nav': true}, '← All segments')),
    head, live, results, pager);

  async function page(n) {
    try {
      const path = segmentPath(id, `/members${query([['limit', limit], ['cursor', cursors[n]]])}`);
      const {data} = await api(path, {signal: controller.signal});
      cursors.splice(n + 1, cursors.length, ...(data.nextCursor ? [data.nextCursor] : []));
      live.textContent = `${data.total} member${data.total === 1 ? '' : 's'}, page ${n + 1}`;
      fill(results, data.items.length ? membersTable(data.items) : h('p', {}, 'No member.'));
      fill(pager,
        n > 0 ? h('button', {type: 'button', class: 'secondary', onclick: () => page(n - 1)}, '← Previous page') : null,
        data.nextCursor ? h('button', {type: 'button', class: 'secondary', onclick: () => page(n + 1)}, 'Next page →') : null);
    } catch (error) {
      if (error.name !== 'AbortError') fill(results, status(error.message, 'error'));
    }
  }

  api(segmentPath(id), {signal: controller.signal}).then(({data}) => {
    document.title = `${data.name} · Segments · Customer console`;
    fill(head, h('h1', {tabindex: -1}, data.name), h('p', {}, show(data.description)),
      h('p', {}, h('code', {class: 'filter'}, JSON.stringify(data.filter))));
    head.querySelector('h1').focus();
  }, (error) => { if (error.name !== 'AbortError') fill(head, h('h1', {}, 'Segment'), status(error.message, 'error')); });
  page(0);
  return {leave() { controller.abort(); }};
}

/** `?screen=segments` (the list) or `?screen=segments&segment=ID` (its members). */
export function renderSegments(main, params) {
  const id = params.get('segment');
  return id && can('read') ? renderMembers(main, id, params) : renderList(main);
}
