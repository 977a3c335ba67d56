// A customer's orders, payments, invoices (PDF download, new invoice) and consents.

import {api, can, customerPath} from './api.js';
import {renderBilling} from './billing.js';
import {renderDuplicates} from './duplicates.js';
import {renderNotes, renderPreferences} from './engagement.js';
import {renderLoyalty} from './loyalty.js';
import {renderTimeline} from './timeline.js';
import {fill, h, money, show, status, table, time} from './dom.js';
import {field, input, select, showProblem, summaryBox} from './forms.js';

const PURPOSES = ['marketing_email', 'marketing_sms', 'push'];

async function load(section, customer, path, signal) {
  fill(section, status('Loading…'));
  try {
    const {data} = await api(customerPath(customer.id, path), {signal});
    return data.items || [];
  } catch (error) {
    if (error.name !== 'AbortError') fill(section, status(error.message, 'error'));
    return null;
  }
}

async function renderOrders(section, customer, signal) {
  const items = await load(section, customer, '/orders', signal);
  if (!items) return;
  fill(section, h('h2', {}, 'Orders'), items.length ? table('Orders, newest first', [
    ['Order', (o) => o.orderId], ['Placed', (o) => time(o.placedAt)], ['Status', (o) => show(o.status)],
    ['First visit', (o) => (o.firstTime ? 'yes' : 'no')], ['Closed', (o) => time(o.closedAt)],
  ], items) : h('p', {}, 'No orders.'));
}

async function renderPayments(section, customer, signal) {
  const items = await load(section, customer, '/payments', signal);
  if (!items) return;
  fill(section, h('h2', {}, 'Payments'), items.length ? table('Payments, newest first', [
    ['Payment', (p) => p.paymentId], ['Order', (p) => show(p.orderId)], ['Amount', (p) => money(p.amount, p.currency)],
    ['Status', (p) => show(p.status)], ['Method', (p) => show(p.method)], ['At', (p) => time(p.at)],
  ], items) : h('p', {}, 'No payments.'));
}

/** Fetch the PDF with the token (a plain link could not send it) and save it. */
async function downloadPdf(customer, number, button) {
  button.disabled = true;
  try {
    const {data} = await api(customerPath(customer.id, `/invoices/${number}`), {accept: 'application/pdf'});
    const url = URL.createObjectURL(data);
    const link = h('a', {href: url, download: `invoice-${number}.pdf`, hidden: true});
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } finally {
    button.disabled = false;
  }
}

async function renderInvoices(section, customer, signal) {
  const items = await load(section, customer, '/invoices', signal);
  if (!items) return;
  const pdf = (inv) => h('button', {type: 'button', class: 'secondary', 'aria-label': `Download invoice ${inv.number} as PDF`,
    onclick: (event) => downloadPdf(customer, inv.number, event.currentTarget)}, 'PDF');
  fill(section, h('h2', {}, 'Invoices'), items.length ? table('Invoices, newest first', [
    ['Number', (i) => String(i.number)], ['Issued', (i) => time(i.issuedAt)], ['Total', (i) => money(i.total, i.currency)],
    ['Lines', (i) => String((i.lines || []).length)], ['Download', pdf],
  ], items) : h('p', {}, 'No invoices.'), issueForm(section, customer, signal));
}

function issueForm(section, customer, signal) {
  if (!can('write') || customer.state !== 'active') return null;
  const currency = input('currency', {maxLength: 3, size: 4, autocomplete: 'off'});
  const form = h('form', {class: 'inline'}, h('h3', {}, 'New invoice'), summaryBox(),
    field('Currency (when payments in several wait)', currency, 'ISO 4217, e.g. EUR'),
    h('button', {type: 'submit'}, 'Invoice the payments not yet invoiced'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const code = currency.value.trim().toUpperCase();
    try {
      await api(customerPath(customer.id, '/invoices'), {method: 'POST', body: code ? {currency: code} : {}});
      renderInvoices(section, customer, signal);
    } catch (error) {
      if (error.body.currencies) error.errors = [{field: 'currency', message: `${error.message} (${error.body.currencies.join(', ')})`}];
      showProblem(form, error);
    }
  });
  return form;
}

async function renderConsents(section, customer, signal) {
  const items = await load(section, customer, '/consents', signal);
  if (!items) return;
  fill(section, h('h2', {}, 'Consents'), items.length ? table('Consent per purpose', [
    ['Purpose', (c) => c.purpose], ['Granted', (c) => (c.granted ? 'granted' : 'withdrawn')],
    ['Source', (c) => show(c.source)], ['Legal basis', (c) => show(c.legalBasis)], ['Changed', (c) => time(c.at)], ['By', (c) => show(c.by)],
  ], items) : h('p', {}, 'No consent recorded.'), consentForm(section, customer, signal));
}

function consentForm(section, customer, signal) {
  if (!can('write') || customer.state !== 'active') return null;
  const purpose = input('purpose', {list: 'purposes', required: true, autocomplete: 'off'});
  const form = h('form', {class: 'inline'}, h('h3', {}, 'Record a consent change'), summaryBox(),
    h('datalist', {id: 'purposes'}, PURPOSES.map((p) => h('option', {value: p}))),
    h('div', {class: 'grid'}, field('Purpose', purpose),
      field('Consent', select('granted', [['true', 'granted'], ['false', 'withdrawn']], 'true')),
      field('Source', input('source', {maxLength: 200})), field('Legal basis', input('legalBasis', {maxLength: 200}))),
    h('button', {type: 'submit'}, 'Record'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = (n) => form.elements.namedItem(n).value.trim();
    const body = {granted: value('granted') === 'true', source: value('source') || null, legalBasis: value('legalBasis') || null};
    try {
      await api(customerPath(customer.id, `/consents/${encodeURIComponent(value('purpose'))}`), {method: 'PUT', body});
      renderConsents(section, customer, signal);
    } catch (error) {
      if (!error.errors.length && error.status === 404) error.errors = [{field: 'purpose', message: error.message}];
      showProblem(form, error);
    }
  });
  return form;
}

/** The record sections of a customer's page, in navigation order. */
export const RECORD_VIEWS = {
  timeline: {title: 'Timeline', render: renderTimeline},
  orders: {title: 'Orders', render: renderOrders},
  payments: {title: 'Payments', render: renderPayments},
  invoices: {title: 'Invoices', render: renderInvoices},
  billing: {title: 'Billing', render: renderBilling},
  consents: {title: 'Consents', render: renderConsents},
  preferences: {title: 'Preferences', render: renderPreferences},
  loyalty: {title: 'Loyalty', render: renderLoyalty},
  notes: {title: 'Notes', render: renderNotes},
  duplicates: {title: 'Duplicates', render: renderDuplicates},
};
