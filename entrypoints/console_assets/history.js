// History for auditors: every event with its field changes, and the customer "as of" any moment
// (picked, or stepped event by event), read from the event stream by the API.

import {api, customerPath} from './api.js';
import {fill, h, show, status, time} from './dom.js';
import {field, input} from './forms.js';

const SNAPSHOT_FIELDS = [['State', 'state'], ['Type', 'type'], ['First name', 'firstName'],
  ['Last name', 'lastName'], ['Email', 'email'], ['Phone', 'phone'], ['Date of birth', 'dateOfBirth'],
  ['Tags', 'tags'], ['Attributes', 'attributes'], ['Notes', 'notes'], ['Version', 'version']];

const toLocalInput = (iso) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
};

function diff(changes) {
  const rows = Object.entries(changes || {});
  if (!rows.length) return null;
  return h('table', {class: 'diff'},
    h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Field'), h('th', {scope: 'col'}, 'Before'), h('th', {scope: 'col'}, 'After'))),
    h('tbody', {}, rows.map(([name, change]) => h('tr', {},
      h('th', {scope: 'row'}, name), h('td', {class: 'from'}, h('del', {}, show(change.from))), h('td', {class: 'to'}, h('ins', {}, show(change.to)))))));
}

/** The end of the millisecond an event is shown at: the API keeps microseconds, so the
 * instant as printed (milliseconds) can fall just before the event itself. */
function endOf(iso) {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(iso);
  return match ? `${match[1]}.${(match[2] || '').padEnd(6, '9').slice(0, 6)}${match[3]}` : iso;
}

/** The index of the last event at or before `iso` (-1 when before the first). */
function indexAt(events, iso) {
  const moment = new Date(iso).getTime();
  let index = -1;
  events.forEach((event, i) => { if (new Date(event.occurredAt).getTime() <= moment) index = i; });
  return index;
}

/** One list item per event: its version (a button showing the customer as of it), type,
 * time, actor and field diff. */
function eventItems(events, pick) {
  return events.map((event) => h('li', {},
    h('div', {class: 'event-head'},
      h('button', {type: 'button', class: 'link', onclick: () => pick(event),
        'aria-label': `Show the customer as of version ${event.version}`}, `v${event.version}`),
      h('strong', {}, event.type), time(event.occurredAt), h('span', {class: 'muted'}, `by ${show(event.actor)}`)),
    diff(event.changes)));
}

/** Keep the moment in the address, so a reload or a shared link shows the same state. */
function rememberAsOf(iso) {
  const url = new URL(location.href);
  url.searchParams.set('asOf', iso);
  history.replaceState({}, '', url);
}

/** The customer's fields as a definition list. */
const snapshotList = (data) => h('dl', {class: 'facts'}, SNAPSHOT_FIELDS.flatMap(([label, key]) =>
  [h('dt', {}, label), h('dd', {dataset: {field: key}}, show(data[key]))]));

export async function renderHistory(section, customer, params, signal) {
  fill(section, status('Loading history…'));
  let events;
  try {
    events = (await api(customerPath(customer.id, '/history'), {signal})).data.items;
  } catch (error) {
    if (error.name !== 'AbortError') fill(section, status(error.message, 'error'));
    return;
  }
  const picker = input('asOf', {type: 'datetime-local', step: 1});
  const prev = h('button', {type: 'button', class: 'secondary'}, '← Previous event');
  const next = h('button', {type: 'button', class: 'secondary'}, 'Next event →');
  const position = h('p', {class: 'position', 'aria-live': 'polite'});
  const snapshot = h('div', {class: 'snapshot'});
  const list = h('ol', {class: 'events'});
  let asOf = params.get('asOf') || endOf(events[events.length - 1].occurredAt);
  let controller = null;

  async function showAt(iso) {
    asOf = iso;
    const index = indexAt(events, iso);
    picker.value = toLocalInput(iso);
    prev.disabled = index <= 0;
    next.disabled = index >= events.length - 1;
    position.textContent = index < 0 ? 'Before the first event.' : `As of event ${index + 1} of ${events.length} (version ${events[index].version}, ${events[index].type}).`;
    for (const [i, item] of [...list.children].entries()) item.toggleAttribute('aria-current', i === index);
    rememberAsOf(iso);
    if (controller) controller.abort();
    controller = new AbortController();
    signal.addEventListener('abort', () => controller.abort(), {once: true});
    try {
      const {data} = await api(`${customerPath(customer.id)}?asOf=${encodeURIComponent(iso)}`, {signal: controller.signal});
      fill(snapshot, snapshotList(data));
    } catch (error) {
      if (error.name === 'AbortError') return;
      fill(snapshot, status(error.status === 404 ? 'The customer did not exist yet at that moment.' : error.message, error.status === 404 ? 'info' : 'error'));
    }
  }

  const step = (delta) => {
    const index = Math.min(Math.max(indexAt(events, asOf) + delta, 0), events.length - 1);
    showAt(endOf(events[index].occurredAt));
  };
  prev.addEventListener('click', () => step(-1));
  next.addEventListener('click', () => step(1));
  picker.addEventListener('change', () => { if (picker.value) showAt(new Date(picker.value).toISOString()); });

  fill(list, eventItems(events, (event) => showAt(endOf(event.occurredAt))));
  fill(section,
    h('div', {class: 'history'},
      h('div', {class: 'as-of card', role: 'group', 'aria-labelledby': 'as-of-title'},
        h('h2', {id: 'as-of-title'}, 'As of'),
        field('Moment (your local time)', picker),
        h('div', {class: 'actions'}, prev, next), position, snapshot),
      h('div', {},
        h('h2', {}, `Events (${events.length}, oldest first)`), list)));
  await showAt(asOf);
}
