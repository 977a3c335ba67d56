// A stacked bar chart as inline SVG (no library: see docs/decisions.md, "Analytics charts").
// The SVG is one labelled image for assistive technology; the same numbers are in a table
// beside it, and each bar carries a <title> with its exact values for a pointer.

import {h, table} from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 720;
const HEIGHT = 240;
const PAD = {top: 12, right: 12, bottom: 42, left: 64};
/** Colour-blind-safe (Okabe–Ito), each ≥ 3:1 against white. */
export const COLOURS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#8a6d00', '#56606b'];

let counter = 0;

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  el.append(...children);
  return el;
}

/** A 'nice' upper bound and step for the y axis (1, 2 or 5 times a power of ten). */
export function niceScale(max, {ticks = 4, integer = true} = {}) {
  if (!(max > 0)) return {top: 1, step: 1};
  const raw = max / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const nice = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const step = integer ? Math.max(1, nice) : nice;
  return {top: Math.ceil(max / step) * step, step};
}

function axis(scale, y, format) {
  const lines = [];
  for (let value = 0; value <= scale.top + 1e-9; value += scale.step) {
    const at = y(value);
    lines.push(svg('line', {x1: PAD.left, x2: WIDTH - PAD.right, y1: at, y2: at, class: 'grid-line'}),
      svg('text', {x: PAD.left - 6, y: at + 4, 'text-anchor': 'end', class: 'tick'}, format(value)));
  }
  return lines;
}

function bars(labels, series, x, y, band, format) {
  const out = [];
  labels.forEach((label, i) => {
    let base = 0;
    const tip = `${label}: ${series.map((s) => `${s.name} ${format(s.values[i] || 0)}`).join(', ')}`;
    const group = svg('g', {class: 'bar'}, svg('title', {}, tip));
    series.forEach((s, k) => {
      const value = s.values[i] || 0;
      if (value > 0) {
        group.append(svg('rect', {x: x(i), y: y(base + value), width: band, height: y(base) - y(base + value),
          fill: COLOURS[k % COLOURS.length]}));
      }
      base += value;
    });
    out.push(group);
  });
  return out;
}

function xLabels(labels, x, band) {
  const every = Math.max(1, Math.ceil(labels.length / 8));  // at most ~8 labels: no overlap
  return labels.map((label, i) => (i % every ? null
    : svg('text', {x: x(i) + band / 2, y: HEIGHT - PAD.bottom + 16, 'text-anchor': 'middle', class: 'tick'}, label)))
    .filter(Boolean);
}

/**
 * A figure: title, legend, SVG and a table of the same numbers.
 * `series` = [{name, values: [number per label]}]; `format(n)` writes a value, `tick(n)` an
 * axis label (short: the title names the unit).
 */
export function barChart({title, labels, series, format = String, tick = format}) {
  const id = `chart${++counter}`;
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] || 0), 0));
  const scale = niceScale(Math.max(0, ...totals));
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const slot = (WIDTH - PAD.left - PAD.right) / Math.max(1, labels.length);
  const band = Math.max(1, slot * 0.7);
  const x = (i) => PAD.left + i * slot + (slot - band) / 2;
  const y = (value) => PAD.top + plotHeight - (value / scale.top) * plotHeight;
  const sum = totals.reduce((a, b) => a + b, 0);
  const image = svg('svg', {viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-labelledby': `${id}-t`, 'aria-describedby': `${id}-d`,
    class: 'chart', preserveAspectRatio: 'xMidYMid meet'},
  svg('title', {id: `${id}-t`}, title),
  svg('desc', {id: `${id}-d`}, `${labels.length} periods, ${format(sum)} in all; the numbers are in the table below.`),
  ...axis(scale, y, tick), ...bars(labels, series, x, y, band, format), ...xLabels(labels, x, band));
  const legend = h('ul', {class: 'legend'}, series.map((s, k) =>
    h('li', {}, h('span', {class: 'swatch', dataset: {colour: String(k % COLOURS.length)}}), s.name)));
  const numbers = table(`${title} (numbers)`, [['Period', (i) => labels[i]],
    ...series.map((s) => [s.name, (i) => format(s.values[i] || 0)])], labels.map((_, i) => i));
  return h('figure', {class: 'chart-figure'}, h('figcaption', {}, h('h3', {}, title)), legend, image,
    h('details', {}, h('summary', {}, `${title} as a table`), numbers));
}
