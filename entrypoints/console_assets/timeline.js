// Everything that happened to a customer, newest first, filtered by kind and paged by cursor.

import {api, customerPath, query} from './api.js';
import {fill, h, show, status, table, time} from './dom.js';

const KINDS = ['profile', 'lifecycle', 'order', 'payment', 'invoice', 'consent', 'preference',
  'communication', 'note', 'loyalty', 'merge'];

export function renderTimeline(section, customer, signal) {
  const boxes = KINDS.map((kind) => h('label', {class: 'check'}, h('input', {type: 'checkbox', name: 'kind', value: kind}), ` ${kind}`));
  const filter = h('fieldset', {class: 'kinds'}, h('legend', {}, 'Only these kinds (none: all)'), boxes);
  const out = h('div', {'aria-live': 'polite'});
  fill(section, h('h2', {}, 'Timeline'), filter, out);
  const columns = [['At', (e) => time(e.at)], ['Kind', (e) => e.kind], ['What', (e) => show(e.summary)],
    ['Event', (e) => show(e.type)], ['By', (e) => show(e.actor)]];

  async function load(cursor, rows) {
    const kinds = boxes.map((b) => b.firstChild).filter((b) => b.checked).map((b) => b.value);
    try {
      const {data} = await api(customerPath(customer.id, `/timeline${query([['kind', kinds], ['cursor', cursor || '']])}`), {signal});
      const all = [...rows, ...data.items];
      fill(out, all.length ? table('Timeline, newest first', columns, all) : h('p', {}, 'Nothing of these kinds.'),
        data.nextCursor ? h('button', {type: 'button', class: 'secondary', onclick: () => load(data.nextCursor, all)}, 'Older') : null);
    } catch (error) {
      if (error.name !== 'AbortError') fill(out, status(error.message, 'error'));
    }
  }
  filter.addEventListener('change', () => load(null, []));
  load(null, []);
}
