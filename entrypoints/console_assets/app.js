// The console's shell: sign-in by token (pasted, or #token= in the URL), the top bar, and
// navigation between screens by the page's query string (/console?q=..., ?customer=ID&view=...).

import {can, session} from './api.js';
import {fill, h, status} from './dom.js';
import {field} from './forms.js';
import {renderAnalytics} from './analytics.js';
import {renderCustomer, renderNewCustomer} from './customer.js';
import {renderImports} from './imports.js';
import {renderProjections} from './projections.js';
import {renderSearch} from './search.js';
import {renderSegments} from './segments.js';

/** Screens other than search and a customer: ?screen=NAME, offered to roles with one of the permissions. */
const SCREENS = {
  new: {permissions: ['write'], render: renderNewCustomer},
  segments: {permissions: ['analytics', 'read'], render: renderSegments},
  analytics: {permissions: ['analytics'], render: renderAnalytics},
  projections: {permissions: ['projections_admin'], render: renderProjections},
  imports: {permissions: ['write'], render: renderImports},
};
const offered = (screen) => Boolean(screen) && screen.permissions.some(can);

const main = document.getElementById('main');
const top = document.getElementById('top');
let current = null; // the screen on show: {leave()} to abort its requests

/** Go to a console URL without reloading the page (history entry kept). */
export function go(url, {replace = false} = {}) {
  history[replace ? 'replaceState' : 'pushState']({}, '', url);
  render({focus: true});
}

/** Internal links: a plain click navigates in place; ctrl/middle click opens a new tab. */
function onLinkClick(event) {
  const link = event.target.closest('a[data-nav]');
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  go(link.getAttribute('href'));
}

function takeTokenFromFragment() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match) session.set(decodeURIComponent(match[1]));
  if (location.hash) history.replaceState({}, '', location.pathname + location.search);
}

function renderTop(claims) {
  const params = new URLSearchParams(location.search);
  const here = params.has('customer') ? 'customer' : params.get('screen') || '';
  const link = (screen, text) => h('a', {href: screen ? `/console?screen=${screen}` : '/console', 'data-nav': true,
    'aria-current': here === screen ? 'page' : null}, text);
  const nav = claims ? h('nav', {'aria-label': 'Console'},
    can('read') ? link('', 'Search') : null,
    can('write') ? link('imports', 'Import') : null,
    offered(SCREENS.segments) ? link('segments', 'Segments') : null,
    can('analytics') ? link('analytics', 'Analytics') : null,
    can('projections_admin') ? link('projections', 'Projections') : null) : null;
  const who = claims ? h('div', {class: 'who'},
    h('span', {}, `${claims.sub} · tenant ${claims.tenant} · ${(claims.roles || []).join(', ')}`),
    h('button', {type: 'button', class: 'secondary', onclick: signOut}, 'Sign out')) : null;
  fill(top, h('a', {class: 'brand', href: '/console', 'data-nav': true}, 'Customer console'), nav, who);
}

function signOut(message) {
  session.clear();
  go('/console', {replace: true});
  if (typeof message === 'string') main.prepend(status(message, 'error'));
}

function renderSignIn(message) {
  renderTop(null);
  document.title = 'Sign in · Customer console';
  const tokenInput = h('textarea', {name: 'token', rows: 4, required: true, autocomplete: 'off', spellcheck: false});
  const form = h('form', {class: 'card narrow', onsubmit: (event) => {
    event.preventDefault();
    session.set(tokenInput.value);
    if (!session.claims()) {
      session.clear();
      fill(errorBox, status('That is not a bearer token (a JWT has three parts separated by dots).', 'error'));
      tokenInput.focus();
      return;
    }
    render({focus: true});
  }},
  h('h1', {}, 'Sign in'),
  h('p', {}, 'Paste a bearer token, e.g. from ', h('code', {}, 'customers token --tenant acme --role admin'),
    '. It is kept in this tab only and sent with each request.'),
  field('Bearer token', tokenInput),
  h('button', {type: 'submit'}, 'Sign in'));
  const errorBox = h('div', {}, message ? status(message, 'error') : null);
  fill(main, errorBox, form);
  tokenInput.focus();
}

function expired(claims) {
  return typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now();
}

/** Draw the screen the URL names. */
export function render({focus = false} = {}) {
  if (current && current.leave) current.leave();
  current = null;
  const claims = session.claims();
  if (!claims) return renderSignIn();
  if (expired(claims)) { session.clear(); return renderSignIn('The token has expired: paste a new one.'); }
  renderTop(claims);
  const params = new URLSearchParams(location.search);
  const screen = SCREENS[params.get('screen')];
  if (offered(screen)) { current = screen.render(main, params); return; }
  if (!can('read') && can('analytics')) { go('/console?screen=segments', {replace: true}); return; }
  if (!can('read')) {
    fill(main, h('h1', {}, 'Nothing to show'), h('p', {},
      'This token\'s roles may not read customers, and no other screen of the console is open to them yet.'));
    return;
  }
  const customerId = params.get('customer');
  // After a navigation the customer page moves focus to its heading once it has loaded (the
  // search screen focuses its search box), so a screen reader starts at the new content.
  current = customerId ? renderCustomer(main, customerId, params, {focus}) : renderSearch(main, params);
}

document.addEventListener('click', onLinkClick);
// A #token= link opened in a signed-in tab is a same-page navigation: popstate fires first
// (and the screen it draws rewrites the address), so both events take the token first.
function onNavigate(event) {
  const tokenLink = /token=/.test(location.hash);
  if (location.hash && !tokenLink) return;  // an anchor in the page (the skip link)
  if (event.type === 'hashchange' && !tokenLink) return;  // popstate has handled it already
  takeTokenFromFragment();
  render({focus: true});
}
window.addEventListener('popstate', onNavigate);
window.addEventListener('hashchange', onNavigate);
window.addEventListener('console:navigate', (event) => go(event.detail));
window.addEventListener('console:signed-out', (event) => renderSignIn(event.detail));
takeTokenFromFragment();
render();
