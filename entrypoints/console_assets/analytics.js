// Analytics (roles with `analytics`): the overview series as charts — new customers by type,
// visits first-time/returning, revenue per currency — for a from/to range and a granularity,
// the cohort table, and each as a CSV file. Aggregates only: no person is ever shown.

import {api, query} from './api.js';
import {fill, h, money, status, table} from './dom.js';
import {barChart} from './chart.js';
import {clearErrors, field, input, select, showProblem, summaryBox} from './forms.js';

const INTERVALS = [['day', 'Day'], ['week', 'Week'], ['month', 'Month']];
const DAY_MS = 86400000;
const isoDay = (date) => date.toISOString().slice(0, 10);

/** The range the URL asks for, else the last 30 days by day. */
function range(params) {
  const today = new Date();
  return {
    from: params.get('from') || isoDay(new Date(today.getTime() - 29 * DAY_MS)),
    to: params.get('to') || isoDay(today),
    interval: params.get('interval') || 'day',
  };
}

function rangeForm(chosen) {
  return h('form', {class: 'inline analytics-form', novalidate: true}, summaryBox(),
    h('div', {class: 'grid'},
      field('From', input('from', {type: 'date', value: chosen.from, required: true})),
      field('To', input('to', {type: 'date', value: chosen.to, required: true})),
      field('Granularity', select('interval', INTERVALS, chosen.interval))),
    h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Show')));
}

/** The overview's pairs and the cohorts' (the months of the same range). */
function queries(chosen) {
  return {
    overview: query([['from', chosen.from], ['to', chosen.to], ['interval', chosen.interval]]),
    cohorts: query([['from', chosen.from.slice(0, 7)], ['to', chosen.to.slice(0, 7)]]),
  };
}

function keysOf(series, pick) {
  return [...new Set(series.flatMap((p) => Object.keys(pick(p) || {})))].sort();
}

function overviewCharts(series) {
  const labels = series.map((p) => p.period);
  const types = keysOf(series, (p) => p.newCustomers.byType);
  const charts = [
    barChart({title: 'New customers', labels,
      series: types.length ? types.map((t) => ({name: t, values: series.map((p) => p.newCustomers.byType[t] || 0)}))
        : [{name: 'new customers', values: series.map((p) => p.newCustomers.total)}]}),
    barChart({title: 'Visits', labels, series: [
      {name: 'first time', values: series.map((p) => p.visits.firstTime)},
      {name: 'returning', values: series.map((p) => p.visits.returning)}]}),
  ];
  const currencies = keysOf(series, (p) => p.revenue);
  for (const currency of currencies) {
    const major = (n) => money(n, currency).replace(` ${currency}`, '');
    charts.push(barChart({title: `Revenue (${currency})`, labels, format: (n) => money(n, currency), tick: major,
      series: [{name: `revenue ${currency}`, values: series.map((p) => p.revenue[currency] || 0)}]}));
  }
  if (!currencies.length) charts.push(h('p', {class: 'muted'}, 'No revenue in this range.'));
  return charts;
}

const percent = (share) => `${(share * 100).toFixed(1)} %`;

function cohortTable(cohorts) {
  if (!cohorts.length) return h('p', {}, 'No cohort in this range (cohorts start at a customer\'s first visit).');
  const months = Math.max(...cohorts.map((c) => c.retained.length));
  return table('Share of each cohort (by month of first visit) that visited in each later month', [
    ['Cohort', (c) => h('strong', {}, c.cohort)], ['Size', (c) => String(c.size)],
    ...Array.from({length: months}, (_, m) => [`Month ${m}`,
      (c) => (m < c.retained.length ? percent(c.retained[m]) : '—')]),
  ], cohorts);
}

/** Fetch a CSV with the token (a plain link could not send it) and save it. */
async function download(path, filename, note) {
  note.textContent = 'Preparing the CSV…';
  try {
    const {data} = await api(path, {accept: 'text/csv'});
    const url = URL.createObjectURL(data);
    const link = h('a', {href: url, download: filename, hidden: true});
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    note.textContent = `Saved ${filename}.`;
  } catch (error) {
    note.textContent = error.message;
  }
}

function csvButtons(paths, chosen, note) {
  const button = (text, path, filename) => h('button', {type: 'button', class: 'secondary',
    onclick: () => download(path, filename, note)}, text);
  return h('div', {class: 'actions'},
    button('Download the overview as CSV', `/analytics/overview${paths.overview}`,
      `overview-${chosen.from}-${chosen.to}-${chosen.interval}.csv`),
    button('Download the cohorts as CSV', `/analytics/cohorts${paths.cohorts}`,
      `cohorts-${chosen.from.slice(0, 7)}-${chosen.to.slice(0, 7)}.csv`));
}

/** Draw the analytics screen; returns {leave}. */
export function renderAnalytics(main, params) {
  document.title = 'Analytics · Customer console';
  const chosen = range(params);
  const form = rangeForm(chosen);
  const out = h('div', {'aria-live': 'polite'}, status('Loading…'));
  fill(main, h('h1', {tabindex: -1}, 'Analytics'),
    h('p', {class: 'muted'}, 'Aggregates only, in UTC days; the cohorts cover the months of the same range.'),
    form, out);
  const controller = new AbortController();

  async function load() {
    const paths = queries(chosen);
    try {
      const [overview, cohorts] = await Promise.all([
        api(`/analytics/overview${paths.overview}`, {signal: controller.signal}),
        api(`/analytics/cohorts${paths.cohorts}`, {signal: controller.signal})]);
      clearErrors(form);
      const note = h('p', {class: 'muted', role: 'status'});
      fill(out, csvButtons(paths, chosen, note), note, h('h2', {}, 'Overview'),
        h('div', {class: 'charts'}, overviewCharts(overview.data.series)),
        h('h2', {}, 'Cohorts'), cohortTable(cohorts.data.cohorts));
    } catch (error) {
      if (error.name === 'AbortError') return;
      fill(out);
      if (error.status === 400 || error.status === 422) showProblem(form, error);
      else fill(out, status(error.message, 'error'));
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    for (const name of ['from', 'to', 'interval']) chosen[name] = form.elements.namedItem(name).value;
    history.replaceState({}, '', `/console?screen=analytics&${queries(chosen).overview.slice(1)}`);
    load();
  });
  load();
  return {leave() { controller.abort(); }};
}
