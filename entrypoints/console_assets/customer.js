// A customer's page: header, section navigation, and the profile (edited with If-Match, each
// 422 message placed on its field). Orders, payments, invoices, consents: records.js; history: history.js.

import {api, can, customerPath} from './api.js';
import {fill, fullName, h, show, status, time} from './dom.js';
import {clearErrors, field, input, select, showProblem, summaryBox} from './forms.js';
import {renderAccess} from './audit.js';
import {renderHistory} from './history.js';
import {RECORD_VIEWS} from './records.js';

const TYPES = ['regular', 'unregistered', 'new', 'anonymous'];
const TEXT_FIELDS = [['firstName', 'First name', 'text'], ['lastName', 'Last name', 'text'],
  ['email', 'Email', 'email'], ['phone', 'Phone', 'tel'], ['dateOfBirth', 'Date of birth', 'date']];

function views() {
  return [['profile', 'Profile'], ...Object.entries(RECORD_VIEWS).map(([k, v]) => [k, v.title]),
    ...(can('audit') ? [['history', 'History'], ['access', 'Access log']] : [])];
}

function header(customer, view) {
  const link = ([key, title]) => h('li', {}, h('a', {
    href: `/console?customer=${encodeURIComponent(customer.id)}${key === 'profile' ? '' : `&view=${key}`}`,
    'data-nav': true, 'aria-current': key === view ? 'page' : null}, title));
  return [
    h('p', {class: 'crumbs'}, h('a', {href: '/console', 'data-nav': true}, '← Search')),
    h('h1', {tabindex: -1}, fullName(customer)),
    h('p', {class: 'badges'}, h('span', {class: `badge ${customer.state}`}, customer.state),
      h('span', {class: 'badge'}, customer.type), h('span', {class: 'muted'}, `version ${customer.version} · id ${customer.id}`)),
    customer.mergedInto ? mergedNote(customer.mergedInto) : null,
    h('nav', {class: 'tabs', 'aria-label': 'Customer sections'}, h('ul', {}, views().map(link))),
  ];
}

/** A merged customer says where it went: a link to the target, named once it is read. */
function mergedNote(targetId) {
  const target = h('a', {href: `/console?customer=${encodeURIComponent(targetId)}`, 'data-nav': true}, `customer ${targetId}`);
  api(customerPath(targetId)).then(({data}) => { target.textContent = `${fullName(data)} (id ${data.id})`; }, () => {});
  return h('p', {class: 'status merged-into'}, 'Merged into ', target,
    can('delete') ? '; its Duplicates section can undo the merge within 30 days.' : '.');
}

/** Draw the customer `id` (section from ?view=) into `main`; returns {leave}. */
export function renderCustomer(main, id, params, {focus = false} = {}) {
  const controller = new AbortController();
  const view = views().some(([key]) => key === params.get('view')) ? params.get('view') : 'profile';
  fill(main, h('h1', {tabindex: -1}, 'Customer'), status('Loading…'));
  api(customerPath(id), {signal: controller.signal}).then(({data: customer}) => {
    const section = h('section', {class: 'section', 'aria-label': views().find(([k]) => k === view)[1]});
    fill(main, ...header(customer, view), section);
    document.title = `${fullName(customer)} · Customer console`;
    if (focus) main.querySelector('h1').focus();
    if (view === 'profile') renderProfile(section, customer, main);
    else if (view === 'history') renderHistory(section, customer, params, controller.signal);
    else if (view === 'access') renderAccess(section, customer, controller.signal);
    else RECORD_VIEWS[view].render(section, customer, controller.signal);
  }).catch((error) => {
    if (error.name === 'AbortError') return;
    const text = error.status === 404 ? 'No customer with that id in this tenant.' : error.message;
    fill(main, h('h1', {tabindex: -1}, 'Customer'), status(text, 'error'), h('a', {href: '/console', 'data-nav': true}, 'Back to search'));
    if (focus) main.querySelector('h1').focus();
  });
  return {leave: () => controller.abort()};
}

const attrText = (attrs) => Object.entries(attrs || {}).map(([k, v]) => `${k}: ${v}`).join('\n');

/** The merge patch from the form: only what changed; blank clears; removed attributes are null. */
function changes(form, customer) {
  const patch = {};
  const value = (name) => form.elements.namedItem(name).value.trim();
  for (const name of ['type', ...TEXT_FIELDS.map(([n]) => n), 'notes']) {
    const now = value(name) || null;
    if (now !== (customer[name] ?? null)) patch[name] = now;
  }
  const tags = value('tags').split(',').map((t) => t.trim()).filter(Boolean);
  if (tags.join('\u0000') !== (customer.tags || []).join('\u0000')) patch.tags = tags;
  const before = customer.attributes || {};
  const after = {};
  for (const line of value('attributes').split('\n').filter((l) => l.trim())) {
    const at = line.indexOf(':');
    const key = (at < 0 ? line : line.slice(0, at)).trim();
    const text = at < 0 ? '' : line.slice(at + 1).trim();
    after[key] = String(before[key]) === text ? before[key] : parseAttr(text);
  }
  const attrs = {};
  for (const key of Object.keys(before)) if (!(key in after)) attrs[key] = null;
  for (const [key, v] of Object.entries(after)) if (before[key] !== v) attrs[key] = v;
  if (Object.keys(attrs).length) patch.attributes = attrs;
  return patch;
}

function parseAttr(text) {
  if (text === 'true' || text === 'false') return text === 'true';
  return /^-?\d+(\.\d+)?$/.test(text) && Number.isFinite(Number(text)) ? Number(text) : text;
}

function profileForm(customer) {
  const ro = !can('write') || customer.state !== 'active';
  const controls = TEXT_FIELDS.map(([name, label, type]) =>
    field(label, input(name, {type, value: customer[name] || '', readOnly: ro,
      autocomplete: 'off'}), name === 'phone' ? 'national numbers are read in the default region' : null));
  return h('form', {class: 'profile', novalidate: true},
    summaryBox(),
    h('div', {class: 'grid'},
      field('Type', select('type', TYPES.map((t) => [t, t]), customer.type, {disabled: ro})),
      ...controls,
      field('Tags', input('tags', {value: (customer.tags || []).join(', '), readOnly: ro}), 'comma-separated')),
    field('Attributes', h('textarea', {name: 'attributes', rows: 3, readOnly: ro, value: attrText(customer.attributes)}), 'one key: value per line'),
    field('Notes', h('textarea', {name: 'notes', rows: 3, readOnly: ro, value: customer.notes || ''})),
    ro ? null : h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Save changes')),
    h('div', {class: 'saved', role: 'status'}));
}

function renderProfile(section, customer, main) {
  let current = customer;
  const form = profileForm(customer);
  const facts = h('dl', {class: 'facts'},
    ...[['Created', time(customer.createdAt)], ['Updated', time(customer.updatedAt)],
      ['Visits', show(customer.visitCount)], ['Last visit', time(customer.lastVisitAt)],
      ['Deleted', time(customer.deletedAt)]].flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  fill(section, h('h2', {}, 'Profile'), form, h('h2', {}, 'Facts'), facts, lifecycle(customer, () => current));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const saved = form.querySelector('.saved');
    const patch = changes(form, current);
    clearErrors(form);
    if (!Object.keys(patch).length) { saved.textContent = 'Nothing changed.'; return; }
    saved.textContent = 'Saving…';
    try {
      const {data} = await api(customerPath(current.id), {method: 'PATCH', body: patch,
        headers: {'If-Match': `"${current.version}"`}});
      current = data;
      saved.textContent = `Saved: version ${data.version}.`;
      main.querySelector('.badges .muted').textContent = `version ${data.version} · id ${data.id}`;
    } catch (error) {
      saved.textContent = '';
      if (error.status === 409 && error.body.existingId && !error.errors.length) {
        error.errors = [{field: 'email', message: `${error.message} (customer ${error.body.existingId})`}];
      }
      if (error.status === 412) error.message = 'Someone changed this customer since it was opened: reload the page to see their change.';
      showProblem(form, error);
    }
  });
}

/** Delete (with a reason) or restore, for roles that may. */
function lifecycle(customer, latest) {
  if (!can('delete') || !['active', 'deleted'].includes(customer.state)) return null;
  const deleting = customer.state === 'active';
  const reason = input('reason', {maxLength: 500});
  const form = h('form', {class: 'lifecycle'}, h('h2', {}, deleting ? 'Delete' : 'Restore'), summaryBox(),
    field('Reason (kept in the audit trail)', reason),
    h('button', {type: 'submit', class: deleting ? 'danger' : ''}, deleting ? 'Delete customer' : 'Restore customer'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const path = customerPath(customer.id, deleting ? '' : '/restore');
    try {
      await api(path, {method: deleting ? 'DELETE' : 'POST', headers: {'If-Match': `"${latest().version}"`},
        body: reason.value.trim() ? {reason: reason.value.trim()} : undefined});
      window.dispatchEvent(new PopStateEvent('popstate'));
    } catch (error) {
      showProblem(form, error);
    }
  });
  return form;
}

/** A new customer from the same form (only the fields given are sent); opens it once created. */
export function renderNewCustomer(main) {
  document.title = 'New customer · Customer console';
  const blank = {type: 'unregistered', state: 'active', tags: [], attributes: {}};
  const form = profileForm(blank);
  form.querySelector('button[type=submit]').textContent = 'Create customer';
  fill(main, h('p', {class: 'crumbs'}, h('a', {href: '/console', 'data-nav': true}, '← Search')),
    h('h1', {tabindex: -1}, 'New customer'), form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = changes(form, blank);
    if (form.elements.namedItem('type').value === 'unregistered') body.type = 'unregistered';
    clearErrors(form);
    try {
      const {data} = await api('/customers', {method: 'POST', body});
      window.dispatchEvent(new CustomEvent('console:navigate', {detail: `/console?customer=${encodeURIComponent(data.id)}`}));
    } catch (error) {
      if (error.status === 409 && error.body.existingId && !error.errors.length) {
        error.errors = [{field: 'email', message: `${error.message} (customer ${error.body.existingId})`}];
      }
      showProblem(form, error);
    }
  });
  form.elements.namedItem('firstName').focus();
}
