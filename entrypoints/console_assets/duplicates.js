// Likely duplicates of a customer, best first, each one a link (merging needs an API that is
// not in main yet).

import {api, customerPath} from './api.js';
import {fill, h, status, table} from './dom.js';

const REASONS = {
  same_phone: 'same phone', same_email_local_part: 'same email name at another domain',
  similar_name: 'similar name', same_birth_date: 'same date of birth',
};

export async function renderDuplicates(section, customer, signal) {
  fill(section, status('Looking for duplicates…'));
  let items;
  try {
    items = (await api(customerPath(customer.id, '/duplicates'), {signal})).data;
  } catch (error) {
    if (error.name !== 'AbortError') fill(section, status(error.message, 'error'));
    return;
  }
  fill(section, h('h2', {}, 'Likely duplicates'), items.length ? table('Likely duplicates, best first', [
    ['Customer', (d) => h('a', {href: `/console?customer=${encodeURIComponent(d.customerId)}`, 'data-nav': true}, d.customerId)],
    ['Score', (d) => `${Math.round(d.score * 100)} %`],
    ['Why', (d) => d.reasons.map((r) => REASONS[r] || r.replace(/_/g, ' ')).join(', ')],
  ], items) : h('p', {}, 'No likely duplicate.'));
}
