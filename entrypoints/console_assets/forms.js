// Labelled form fields whose problems are shown on the field itself (aria-invalid, described by
// the message), and the placing of a problem+json `errors` list onto those fields.

import {h} from './dom.js';

let counter = 0;

/** A labelled control with a hint and an error slot; `control` is an input/select/textarea. */
export function field(label, control, hint) {
  const id = control.id || `f${++counter}`;
  control.id = id;
  const hintEl = hint ? h('span', {class: 'hint', id: `${id}-hint`}, hint) : null;
  const errorEl = h('span', {class: 'field-error', id: `${id}-error`, hidden: true});
  control.setAttribute('aria-describedby', [hintEl && hintEl.id, errorEl.id].filter(Boolean).join(' '));
  return h('div', {class: 'field', dataset: {field: control.name}},
    h('label', {for: id}, label), control, hintEl, errorEl);
}

export const input = (name, attrs = {}) => h('input', {name, type: 'text', ...attrs});

/** A <select> of [value, text] pairs with `selected` chosen. */
export function select(name, options, selected, attrs = {}) {
  return h('select', {name, ...attrs}, options.map(([value, text]) =>
    h('option', {value, selected: value === selected}, text)));
}

/** Remove every field message and the form's summary. */
export function clearErrors(form) {
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  for (const el of form.querySelectorAll('.field-error')) { el.hidden = true; el.textContent = ''; }
  const summary = form.querySelector('.form-summary');
  if (summary) summary.replaceChildren();
}

/** The control a problem's field name refers to ("email", "body.email", "attr[0]"...). */
function controlFor(form, name) {
  const candidates = [name, name.replace(/^(body|query)\./, ''), name.split(/[.[]/)[0]];
  for (const candidate of candidates) {
    const el = form.elements.namedItem(candidate);
    if (el && el.nodeType === 1) return el;
  }
  return null;
}

/**
 * Put each of `problem.errors` on its field and the rest (and the detail) in the summary;
 * focus the first invalid field so a keyboard or screen-reader user lands on it.
 */
export function showProblem(form, problem) {
  clearErrors(form);
  const unplaced = [];
  let first = null;
  for (const {field: name, message} of problem.errors || []) {
    const control = name ? controlFor(form, name) : null;
    if (!control) { unplaced.push(name ? `${name}: ${message}` : message); continue; }
    control.setAttribute('aria-invalid', 'true');
    const slot = form.querySelector(`#${CSS.escape(control.id)}-error`);
    if (slot) {
      slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
      slot.hidden = false;
    }
    first = first || control;
  }
  const summary = form.querySelector('.form-summary');
  if (summary) {
    const lines = first && !unplaced.length ? [] : [problem.message, ...unplaced];
    summary.append(...lines.map((line) => h('p', {}, line)));
  }
  if (first) first.focus(); else if (summary) summary.focus();
}

/** The summary box a form shows problems in (announced when it changes). */
export const summaryBox = () => h('div', {class: 'form-summary', role: 'alert', tabindex: '-1'});

/** Show `message` on one field (null clears it) without moving focus: for checks while typing. */
export function markField(form, name, message) {
  const control = form.elements.namedItem(name);
  const slot = form.querySelector(`#${CSS.escape(control.id)}-error`);
  if (message) control.setAttribute('aria-invalid', 'true'); else control.removeAttribute('aria-invalid');
  if (slot) { slot.textContent = message || ''; slot.hidden = !message; }
}
