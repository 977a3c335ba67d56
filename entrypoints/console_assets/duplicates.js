// A customer's likely duplicates, best first, named (each suggestion is read by id: the
// suggestion list carries ids only); roles that may merge (`delete`) fold one into this
// customer after a confirmation naming both, and give back, within 30 days, a customer merged
// into this one (unmerge). Which customers are merged into this one is read from its timeline
// (`merge` kind: absorbed, then maybe undone): the API lists them nowhere else.

import {api, can, customerPath, query} from './api.js';
import {fill, fullName, h, show, status, table, time} from './dom.js';

const REASONS = {
  same_phone: 'same phone', same_email_local_part: 'same email name at another domain',
  similar_name: 'similar name', same_birth_date: 'same date of birth',
};
const UNDO_DAYS = 30;
const DAY_MS = 86400000;

const link = (c) => h('a', {href: `/console?customer=${encodeURIComponent(c.id)}`, 'data-nav': true}, fullName(c));
/** A customer named so that two duplicates can be told apart: name, email or phone, id. */
const describe = (c) => `${fullName(c)} (${[c.email || c.phone, `id ${c.id}`].filter(Boolean).join(', ')})`;

/** The customers with these ids, each read by id; one that cannot be read is left out. */
async function customers(ids, signal) {
  const found = await Promise.all(ids.map((id) => api(customerPath(id), {signal})
    .then(({data}) => data, (error) => { if (error.name === 'AbortError') throw error; return null; })));
  return found.filter(Boolean);
}

/** {sourceId: merged at} of the customers merged into `customer` and not given back yet. */
async function mergedSources(customer, signal) {
  const latest = new Map();
  let cursor = '';
  do {
    const path = customerPath(customer.id, `/timeline${query([['kind', 'merge'], ['limit', '100'], ['cursor', cursor]])}`);
    const {data} = await api(path, {signal});
    for (const item of data.items) if (item.ref && !latest.has(item.ref)) latest.set(item.ref, item);
    cursor = data.nextCursor;
  } while (cursor);
  return new Map([...latest].filter(([, item]) => item.type === 'customer.merge_absorbed')
    .map(([id, item]) => [id, item.at]));
}

/** An inline confirmation (no modal to trap focus): heading, what will happen, confirm/cancel. */
function confirmation(box, {title, lines, action, run}) {
  const heading = h('h3', {tabindex: -1}, title);
  const outcome = h('div', {});
  const go = h('button', {type: 'button', class: 'danger'}, action);
  const cancel = h('button', {type: 'button', class: 'secondary', onclick: () => fill(box)}, 'Cancel');
  go.addEventListener('click', async () => {
    go.disabled = true;
    try {
      await run();
    } catch (error) {
      go.disabled = false;
      fill(outcome, status(error.status === 412
        ? 'This customer changed since the page was opened: reload it and try again.' : error.message, 'error'));
    }
  });
  fill(box, h('div', {class: 'confirm', role: 'group', 'aria-label': title},
    heading, lines.map((line) => h('p', {}, line)), outcome, h('div', {class: 'actions'}, go, cancel)));
  heading.focus();
}

export async function renderDuplicates(section, customer, signal) {
  let current = customer;
  const mayMerge = can('delete') && customer.state === 'active';
  const live = h('div', {class: 'saved', role: 'status'});
  const confirmBox = h('div', {});
  const lists = h('div', {}, status('Looking for duplicates…'));
  const heading = h('h2', {tabindex: -1}, 'Likely duplicates');
  fill(section, heading, live, confirmBox, lists);

  /** After a merge or unmerge: the new version in the header, the lists again, a message. */
  async function done(data, message) {
    current = data;
    const version = document.querySelector('.badges .muted');
    if (version) version.textContent = `version ${data.version} · id ${data.id}`;
    fill(confirmBox);
    fill(live, ...message);
    await load();
    heading.focus();
  }

  function askMerge(source) {
    confirmation(confirmBox, {
      title: 'Merge these two customers?', action: 'Confirm merge',
      lines: [`${describe(source)} will be merged into ${describe(current)}, which is kept.`,
        'The kept customer keeps its own values and takes the other’s where its own are empty; orders, ' +
        'payments, invoices, notes and loyalty points move to it. The other becomes “merged”. ' +
        `The merge can be undone here for ${UNDO_DAYS} days.`],
      run: async () => {
        const {data} = await api(customerPath(current.id, '/merge'), {method: 'POST', body: {sourceId: source.id},
          headers: {'If-Match': `"${current.version}"`}});
        await done(data, [`Merged ${describe(source)} into this customer. It is now “merged”: `, link(source), '.']);
      },
    });
  }

  function askUnmerge(source) {
    confirmation(confirmBox, {
      title: 'Undo this merge?', action: 'Confirm unmerge',
      lines: [`${describe(source)} gets back exactly what it had; ${describe(current)} gives back what it got from it ` +
        'and keeps what happened to it since.'],
      run: async () => {
        const {data} = await api(customerPath(current.id, '/unmerge'), {method: 'POST', body: {sourceId: source.id},
          headers: {'If-Match': `"${current.version}"`}});
        await done(data, [`Unmerged ${describe(source)}: it is active again, `, link(source), '.']);
      },
    });
  }

  async function load() {
    try {
      const [suggested, merged] = await Promise.all([
        api(customerPath(current.id, '/duplicates'), {signal}).then(({data}) => data),
        mergedSources(current, signal)]);
      const named = new Map((await customers(suggested.map((d) => d.customerId), signal)).map((c) => [c.id, c]));
      const sources = (await customers([...merged.keys()], signal))
        .filter((c) => c.state === 'merged' && c.mergedInto === current.id);
      fill(lists, suggestionsTable(suggested.filter((d) => named.has(d.customerId)), named),
        sources.length ? mergedTable(sources, merged) : null);
    } catch (error) {
      if (error.name !== 'AbortError') fill(lists, status(error.message, 'error'));
    }
  }

  function suggestionsTable(items, named) {
    if (!items.length) return h('p', {}, 'No likely duplicate.');
    const other = (d) => named.get(d.customerId);
    const merge = (d) => h('button', {type: 'button', 'aria-label': `Merge into this one: ${describe(other(d))}`,
      onclick: () => askMerge(other(d))}, 'Merge into this one');
    return table('Likely duplicates, best first', [
      ['Customer', (d) => link(other(d))], ['Email', (d) => show(other(d).email)], ['Phone', (d) => show(other(d).phone)],
      ['Score', (d) => `${Math.round(d.score * 100)} %`],
      ['Why', (d) => d.reasons.map((r) => REASONS[r] || r.replace(/_/g, ' ')).join(', ')],
      ...(mayMerge ? [['Action', merge]] : []),
    ], items);
  }

  function mergedTable(sources, merged) {
    const undo = (c) => {
      if (Date.now() - new Date(merged.get(c.id)).getTime() >= UNDO_DAYS * DAY_MS) return `more than ${UNDO_DAYS} days ago`;
      return h('button', {type: 'button', class: 'secondary', 'aria-label': `Unmerge ${describe(c)}`,
        onclick: () => askUnmerge(c)}, 'Unmerge');
    };
    return [h('h2', {}, 'Merged into this customer'), table('Customers merged into this one, newest first', [
      ['Customer', link], ['Email', (c) => show(c.email)], ['Merged', (c) => time(merged.get(c.id))],
      ...(can('delete') ? [['Undo', undo]] : []),
    ], sources)];
  }

  await load();
}
