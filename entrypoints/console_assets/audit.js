// For auditors: who read or exported this customer's personal data, and the signed GDPR export.

import {api, customerPath, query} from './api.js';
import {fill, h, show, status, table, time} from './dom.js';

/** Fetch the export with the token (a plain link could not send it) and save it as a file. */
async function downloadExport(customer, button, note) {
  button.disabled = true;
  note.textContent = 'Preparing the export…';
  try {
    const {data} = await api(customerPath(customer.id, '/export'), {blob: true});
    const url = URL.createObjectURL(data);
    const link = h('a', {href: url, download: `customer-${customer.id}.json`, hidden: true});
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    note.textContent = 'Export saved (signed; check it with customers audit verify-export).';
  } catch (error) {
    note.textContent = error.message;
  } finally {
    button.disabled = false;
  }
}

export async function renderAccess(section, customer, signal) {
  fill(section, status('Loading the access log…'));
  let items;
  try {
    items = (await api(`/audit/access${query([['customerId', customer.id]])}`, {signal})).data.items;
  } catch (error) {
    if (error.name !== 'AbortError') fill(section, status(error.message, 'error'));
    return;
  }
  const note = h('p', {role: 'status', class: 'muted'});
  const button = h('button', {type: 'button', class: 'secondary', onclick: () => downloadExport(customer, button, note)},
    'Download the GDPR export');
  fill(section, h('h2', {}, 'Access log'),
    h('p', {}, 'Every read or export of this customer\'s personal data, newest first (the export is recorded too).'),
    h('div', {class: 'actions'}, button), note,
    items.length ? table('Reads and exports', [
      ['At', (e) => time(e.at)], ['Who', (e) => show(e.actor)], ['Roles', (e) => show(e.roles)],
      ['Action', (e) => show(e.action)], ['Purpose', (e) => show(e.purpose)],
    ], items) : h('p', {}, 'Nobody has read this customer yet.'));
}
