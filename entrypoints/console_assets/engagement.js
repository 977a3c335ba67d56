// A customer's notes (add; delete one's own, or any with the delete permission) and
// preferences (language, timezone, channels, quiet hours) with contactability per purpose.

import {api, can, customerPath, query, session} from './api.js';
import {fill, h, show, status, table, time} from './dom.js';
import {field, input, select, showProblem, summaryBox} from './forms.js';

export async function renderNotes(section, customer, signal) {
  fill(section, status('Loading…'));
  let notes;
  try {
    notes = (await api(customerPath(customer.id, '/notes'), {signal})).data.items;
  } catch (error) {
    if (error.name !== 'AbortError') fill(section, status(error.message, 'error'));
    return;
  }
  const me = (session.claims() || {}).sub;
  const redraw = () => renderNotes(section, customer, signal);
  const remove = (note) => (note.author === me || can('delete') ? h('button', {type: 'button', class: 'secondary',
    'aria-label': `Delete the note of ${new Date(note.at).toLocaleString()}`, onclick: async () => {
      try { await api(customerPath(customer.id, `/notes/${encodeURIComponent(note.id)}`), {method: 'DELETE'}); redraw(); } catch (error) { fill(section, status(error.message, 'error')); }
    }}, 'Delete') : '');
  const text = h('textarea', {name: 'text', rows: 3, maxLength: 5000, required: true});
  const form = can('write') && customer.state === 'active' ? h('form', {class: 'inline'}, h('h3', {}, 'Add a note'), summaryBox(),
    field('Note', text), h('button', {type: 'submit'}, 'Add note')) : null;
  if (form) form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try { await api(customerPath(customer.id, '/notes'), {method: 'POST', body: {text: text.value}}); redraw(); } catch (error) { showProblem(form, error); }
  });
  fill(section, h('h2', {}, 'Notes'), notes.length ? table('Notes, newest first', [
    ['At', (n) => time(n.at)], ['Author', (n) => show(n.author)], ['Note', (n) => h('span', {class: 'note'}, n.text)], ['Action', remove],
  ], notes) : h('p', {}, 'No notes.'), form);
}

function contactability(customer, signal) {
  const purpose = input('purpose', {value: 'marketing_email', list: 'contact-purposes'});
  const out = h('div', {'aria-live': 'polite'});
  const form = h('form', {class: 'inline'}, h('h3', {}, 'May we contact them?'), summaryBox(),
    h('datalist', {id: 'contact-purposes'}, ['marketing_email', 'marketing_sms', 'push', 'order_confirmation', 'invoice']
      .map((p) => h('option', {value: p}))), field('Purpose', purpose), h('button', {type: 'submit'}, 'Check'), out);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const {data} = await api(customerPath(customer.id, `/contactability${query([['purpose', purpose.value]])}`), {signal});
      fill(out, table(`Contactability for ${data.purpose}`, [['Channel', ([c]) => c],
        ['Allowed', ([, v]) => (v.allowed ? 'yes' : 'no')], ['Why not', ([, v]) => show(v.reason)]], Object.entries(data.channels)));
    } catch (error) { showProblem(form, error); }
  });
  return form;
}

export async function renderPreferences(section, customer, signal) {
  fill(section, status('Loading…'));
  let prefs;
  try {
    prefs = (await api(customerPath(customer.id, '/preferences'), {signal})).data;
  } catch (error) {
    if (error.name !== 'AbortError') fill(section, status(error.message, 'error'));
    return;
  }
  const ro = !can('write') || customer.state !== 'active';
  const channel = (name) => field(`${name.toUpperCase()} channel`, select(`channels.${name}`,
    [['true', 'enabled'], ['false', 'disabled']], String(prefs.channels[name].enabled), {disabled: ro}));
  const quiet = prefs.quietHours || {};
  const form = h('form', {class: 'profile', novalidate: true}, summaryBox(), h('div', {class: 'grid'},
    field('Language', input('language', {value: prefs.language || '', readOnly: ro}), 'BCP 47, e.g. fr-CA'),
    field('Timezone', input('timezone', {value: prefs.timezone || '', readOnly: ro}), 'IANA, e.g. Europe/Paris'),
    ['email', 'sms', 'push'].map(channel),
    field('Quiet hours from', input('quietHours.start', {type: 'time', value: quiet.start || '', readOnly: ro})),
    field('Quiet hours to', input('quietHours.end', {type: 'time', value: quiet.end || '', readOnly: ro}))),
    h('p', {}, `Payment method: ${prefs.paymentMethod ? `${show(prefs.paymentMethod.type)} ${show(prefs.paymentMethod.brand)} ····${show(prefs.paymentMethod.last4)}` : 'none'}`),
    ro ? null : h('button', {type: 'submit'}, 'Save preferences'), h('p', {class: 'saved', role: 'status'}));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const v = (n) => form.elements.namedItem(n).value.trim();
    const body = {language: v('language') || null, timezone: v('timezone') || null,
      channels: Object.fromEntries(['email', 'sms', 'push'].map((c) => [c, {enabled: v(`channels.${c}`) === 'true'}])),
      quietHours: v('quietHours.start') || v('quietHours.end') ? {start: v('quietHours.start'), end: v('quietHours.end')} : null};
    try {
      await api(customerPath(customer.id, '/preferences'), {method: 'PUT', body});
      form.querySelector('.saved').textContent = 'Saved.';
    } catch (error) { showProblem(form, error); }
  });
  fill(section, h('h2', {}, 'Preferences'), form, contactability(customer, signal));
}
