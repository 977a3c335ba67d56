// The public API with the operator's bearer token, and what that token's roles may do.

const TOKEN_KEY = 'customers.console.token';
const ROLES = JSON.parse(document.getElementById('role-table').textContent);

/** A problem+json answer (or a network failure) as an Error the screens can place. */
export class Problem extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title)) || `Request failed (${status})`);
    this.status = status;
    this.body = body || {};
    this.errors = Array.isArray(this.body.errors) ? this.body.errors : [];
  }
}

export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  set: (token) => sessionStorage.setItem(TOKEN_KEY, token.trim()),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
  /** The token's claims (read to decide what to offer; the server checks them anyway). */
  claims() {
    const token = session.token();
    if (!token) return null;
    try {
      const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      const padded = part.padEnd(part.length + (4 - (part.length % 4)) % 4, '=');
      const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      return null;
    }
  },
};

/** True when one of the token's roles grants `permission` (read, write, delete, audit, ...). */
export function can(permission) {
  const claims = session.claims();
  const roles = (claims && claims.roles) || [];
  return roles.some((role) => (ROLES[role] || []).includes(permission));
}

// The consistency token of this tab's latest command: reads send it, so an operator always sees
// the effect of what they just did (the API waits for the projections to catch up).
let consistency = null;

/** Call the API: JSON in and out, problem+json thrown as Problem; 401 signs the tab out. */
export async function api(path, {method = 'GET', body, raw, contentType, headers = {}, signal, accept, blob = false} = {}) {
  const init = {method, signal, headers: {Accept: accept || 'application/json', ...headers}};
  init.headers.Authorization = `Bearer ${session.token()}`;
  if (method === 'GET' && consistency) init.headers['X-Consistency-Token'] = consistency;
  if (raw !== undefined) {
    init.headers['Content-Type'] = contentType;
    init.body = raw;
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new Problem(0, {detail: 'The service did not answer. Check that it is running.'});
  }
  if (response.status === 401) {
    session.clear();
    window.dispatchEvent(new CustomEvent('console:signed-out', {detail: 'The token was refused or has expired.'}));
  }
  if (!response.ok) {
    const text = await response.text();
    let problem;
    try { problem = JSON.parse(text); } catch { problem = {detail: text.slice(0, 200)}; }
    throw new Problem(response.status, problem);
  }
  if (method !== 'GET' && response.headers.get('X-Consistency-Token')) {
    consistency = response.headers.get('X-Consistency-Token');
  }
  if (blob || (accept && !accept.includes('json'))) return {response, data: await response.blob()};
  const data = response.status === 204 ? null : await response.json();
  return {response, data};
}

/** A query string from [name, value] pairs, repeating names for lists and skipping blanks. */
export function query(pairs) {
  const params = new URLSearchParams();
  for (const [name, value] of pairs) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one !== undefined && one !== null && String(one).trim() !== '') params.append(name, String(one).trim());
    }
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

export const customerPath = (id, rest = '') => `/customers/${encodeURIComponent(id)}${rest}`;
