// A customer's billing details (what invoices are addressed to): shown, and edited by roles
// that may write, each 422 placed on its field (address fields included).

import {api, can, customerPath} from './api.js';
import {fill, h, status} from './dom.js';
import {clearErrors, field, input, showProblem, summaryBox} from './forms.js';

const FIELDS = [['name', 'Name on invoices'], ['email', 'Billing email', 'email'], ['taxId', 'Tax id'],
  ['address.line1', 'Address line 1'], ['address.line2', 'Address line 2'], ['address.city', 'City'],
  ['address.postalCode', 'Postal code'], ['address.region', 'Region'], ['address.country', 'Country', 'text', 'ISO 3166 code, e.g. FR']];

const valueAt = (billing, path) => path.split('.').reduce((at, key) => (at ? at[key] : null), billing);

/** The PUT body: blanks are null; no address object when every line of it is blank. */
function body(form) {
  const value = (name) => form.elements.namedItem(name).value.trim() || null;
  const address = {};
  for (const [path] of FIELDS.filter(([p]) => p.startsWith('address.'))) address[path.slice(8)] = value(path);
  return {name: value('name'), email: value('email'), taxId: value('taxId'),
    address: Object.values(address).some(Boolean) ? address : null};
}

export async function renderBilling(section, customer, signal) {
  fill(section, status('Loading…'));
  let billing = null;
  try {
    billing = (await api(customerPath(customer.id, '/billing'), {signal})).data.billing;
  } catch (error) {
    if (error.name === 'AbortError') return;
    if (error.status !== 404) { fill(section, status(error.message, 'error')); return; }
  }
  const readOnly = !can('write') || customer.state !== 'active';
  const saved = h('p', {class: 'saved', role: 'status'});
  const form = h('form', {class: 'profile', novalidate: true}, summaryBox(),
    h('div', {class: 'grid'}, FIELDS.map(([path, label, type, hint]) =>
      field(label, input(path, {type: type || 'text', value: valueAt(billing, path) || '', readOnly}), hint))),
    readOnly ? null : h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Save billing details')), saved);
  fill(section, h('h2', {}, 'Billing details'),
    billing ? null : h('p', {}, 'No billing details yet: invoices are addressed to the customer.'), form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    saved.textContent = 'Saving…';
    try {
      await api(customerPath(customer.id, '/billing'), {method: 'PUT', body: body(form)});
      clearErrors(form);
      saved.textContent = 'Saved.';
    } catch (error) {
      saved.textContent = '';
      showProblem(form, error);
    }
  });
}
