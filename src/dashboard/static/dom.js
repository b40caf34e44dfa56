// @ts-check
/** Small DOM helpers shared by the dashboard's modules. */
import { formatUtc } from './format.js';

/**
 * All elements matching `sel` under `root`.
 * @param {string} sel
 * @param {ParentNode} [root]
 * @returns {HTMLElement[]}
 */
export function all(sel, root = document) {
  return /** @type {HTMLElement[]} */ ([...root.querySelectorAll(sel)]);
}

/**
 * The content of a `<meta name=...>` of the page.
 * @param {string} name
 */
export function meta(name) {
  return document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? '';
}

const LOCAL = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/**
 * Shows every `<time datetime>` under `root` in the viewer's time zone, with UTC on hover.
 * @param {ParentNode} root
 */
export function localizeTimes(root) {
  for (const el of all('time[datetime]', root)) {
    const t = /** @type {HTMLTimeElement} */ (el);
    const d = new Date(t.dateTime);
    if (Number.isNaN(d.getTime()) || t.dataset.local === '1') continue;
    t.textContent = LOCAL.format(d);
    t.title = formatUtc(d.getTime());
    t.dataset.local = '1';
  }
}

/**
 * Fetches JSON from the dashboard's own origin (cookies included); null on failure.
 * Redirects to the sign-in page when the session has ended.
 * @param {string} url
 * @returns {Promise<any>}
 */
export async function getJson(url) {
  const res = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (res.status === 401) {
    signIn();
    return null;
  }
  if (!res.ok) return null;
  return res.json();
}

/** Goes to the sign-in page, coming back here afterwards. */
export function signIn() {
  const login = meta('prodmon-login');
  if (login) location.assign(`${login}?next=${encodeURIComponent(location.pathname + location.search)}`);
}
