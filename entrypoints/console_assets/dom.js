// Building DOM nodes without innerHTML: every value from the API is set as text, never markup.

/** h('a', {href: '#', class: 'x', onclick: fn}, 'text', child) -> Element */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.className = value;
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key in el && typeof value !== 'string') {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace every child of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A readable local date and time for an ISO-8601 instant ('—' for none). */
export function when(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleString(undefined, {dateStyle: 'medium', timeStyle: 'medium'});
}

/** A <time> element showing `iso` readably, with the exact instant as its datetime. */
export function time(iso) {
  return iso ? h('time', {datetime: iso, title: iso}, when(iso)) : '—';
}

/** Money in minor units, e.g. money(1250, 'EUR') -> '12.50 EUR' (0-decimal currencies too). */
export function money(minor, currency) {
  if (minor === undefined || minor === null) return '—';
  const digits = new Intl.NumberFormat('en', {style: 'currency', currency: currency || 'USD'})
    .resolvedOptions().maximumFractionDigits;
  return `${(minor / 10 ** digits).toFixed(digits)} ${currency || ''}`.trim();
}

/** Any JSON value as short text for a table cell. */
export function show(value) {
  if (value === undefined || value === null || value === '') return '—';
  if (Array.isArray(value)) return value.length ? value.map(show).join(', ') : '—';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A full name, or a placeholder that says there is none. */
export function fullName(customer) {
  const name = [customer.firstName, customer.lastName].filter(Boolean).join(' ');
  return name || customer.email || customer.phone || '(no name)';
}

/** A table with a caption; `columns` = [[header, item => cell], ...]. */
export function table(caption, columns, items) {
  return h('div', {class: 'table-wrap'},
    h('table', {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, columns.map(([title]) => h('th', {scope: 'col'}, title)))),
      h('tbody', {}, items.map((item) =>
        h('tr', {}, columns.map(([, cell]) => h('td', {}, cell(item))))))));
}

/** A polite status line for screen readers and eyes. */
export function status(text, kind = 'info') {
  return h('p', {class: `status ${kind}`, role: kind === 'error' ? 'alert' : 'status'}, text);
}
