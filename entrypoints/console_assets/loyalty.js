// A customer's loyalty points: balance, tier, points about to expire and the ledger (newest
// first, paged); redeeming (write) and adjusting (managers), a refusal placed on its field.

import {api, can, customerPath, query} from './api.js';
import {fill, h, show, status, table, time} from './dom.js';
import {field, input, showProblem, summaryBox} from './forms.js';

function pointsForm(title, path, customer, redraw, signed) {
  const points = input('points', {type: 'number', required: true, step: 1, ...(signed ? {} : {min: 1})});
  const reason = input('reason', {maxLength: 200, required: true});
  const form = h('form', {class: 'inline'}, h('h3', {}, title), summaryBox(),
    h('div', {class: 'grid'}, field(signed ? 'Points (negative to remove)' : 'Points', points), field('Reason', reason)),
    h('button', {type: 'submit'}, title));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api(customerPath(customer.id, path), {method: 'POST',
        body: {points: Number(points.value), reason: reason.value.trim()}});
      redraw();
    } catch (error) {
      if (!error.errors.length && error.status === 409) error.errors = [{field: 'points', message: error.message}];
      showProblem(form, error);
    }
  });
  return form;
}

export async function renderLoyalty(section, customer, signal) {
  fill(section, status('Loading…'));
  let account;
  try {
    account = (await api(customerPath(customer.id, '/loyalty'), {signal})).data;
  } catch (error) {
    if (error.name !== 'AbortError') fill(section, status(error.message, 'error'));
    return;
  }
  const redraw = () => renderLoyalty(section, customer, signal);
  const active = customer.state === 'active';
  const entries = h('div', {});
  const columns = [['At', (e) => time(e.at)], ['Kind', (e) => e.kind], ['Points', (e) => String(e.points)],
    ['Reason', (e) => show(e.reason)], ['Ref', (e) => show(e.ref)]];
  const drawEntries = (page, rows) => {
    fill(entries, rows.length ? table('Ledger, newest first', columns, rows) : h('p', {}, 'No points yet.'),
      page.nextCursor ? h('button', {type: 'button', class: 'secondary', onclick: async () => {
        const more = (await api(customerPath(customer.id, `/loyalty${query([['cursor', page.nextCursor]])}`), {signal})).data.entries;
        drawEntries(more, [...rows, ...more.items]);
      }}, 'Older entries') : null);
  };
  drawEntries(account.entries, account.entries.items);
  fill(section, h('h2', {}, 'Loyalty'),
    h('dl', {class: 'facts'}, [['Balance', `${account.balance} points`], ['Lifetime', `${account.lifetimePoints} points`],
      ['Tier', show(account.tier)], ['Expiring', (account.expiring || []).map((x) => `${x.points} on ${new Date(x.at).toLocaleDateString()}`).join(', ') || '—']]
      .flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    entries,
    can('write') && active ? pointsForm('Redeem points', '/loyalty/redemptions', customer, redraw, false) : null,
    can('delete') && active ? pointsForm('Adjust points', '/loyalty/adjustments', customer, redraw, true) : null);
}
