/**
 * Secrets in the config: finding them, masking them for display, scrubbing them from any text. One set of
 * rules for the printed config (`prodmon config check`) and for health output (check details and errors):
 * secret-named keys, credentials inside URLs, query-string values, headers off a short allow-list, and
 * notification URLs (a webhook's path is its key).
 */
import { isSecretKey } from './issues.js';

const MASK = '********';
const URL_CREDENTIALS = /^([a-z][a-z0-9+.-]*:\/\/)([^/@\s]*)@/i;

/** Headers whose values are never secret and stay readable; every other header's value is masked. */
export const SAFE_HEADERS: ReadonlySet<string> = new Set([
  'accept',
  'accept-encoding',
  'accept-language',
  'cache-control',
  'connection',
  'content-type',
  'host',
  'pragma',
  'user-agent',
]);

/** Whether a string field under this key holds a URL that is itself a secret (webhook URLs). */
function isSecretUrlField(path: readonly PropertyKey[]): boolean {
  return path[0] === 'notifications' && path[path.length - 1] === 'url';
}

/** Whether this path is the value of a header whose value may be a secret. */
function isSecretHeader(path: readonly PropertyKey[]): boolean {
  const name = path[path.length - 1];
  return (
    path[path.length - 2] === 'headers' && typeof name === 'string' && !SAFE_HEADERS.has(name.toLowerCase())
  );
}

/**
 * Values that are secrets only maybe (query values, headers off the allow-list) are scrubbed from text
 * from this length on: a short one (`json`, `eu`) would blank out ordinary words of every message.
 */
const MAYBE_SECRET_MIN = 8;

/** The secret parts of a URL: the password (or a lone user name over http(s)), and each query value. */
function urlSecrets(text: string): string[] {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return [];
  const out: string[] = [];
  const query: string[] = [];
  const cred = URL_CREDENTIALS.exec(text)?.[2];
  if (cred) {
    const colon = cred.indexOf(':');
    if (colon >= 0) out.push(cred.slice(colon + 1));
    else if (/^https?:/i.test(text)) out.push(cred);
  }
  const q = text.indexOf('?');
  if (q >= 0) {
    for (const part of text
      .slice(q + 1)
      .split('#')[0]!
      .split('&')) {
      const eq = part.indexOf('=');
      if (eq >= 0 && part.length - eq - 1 >= MAYBE_SECRET_MIN) query.push(part.slice(eq + 1));
    }
  }
  out.push(...query);
  const decoded: string[] = [];
  for (const s of out) {
    try {
      decoded.push(decodeURIComponent(s.replace(/\+/g, ' ')));
    } catch {
      // not percent-encoded: the raw form is enough
    }
  }
  return [...out, ...decoded];
}

/**
 * A URL fit to show: a password (or an http(s) URL's lone user name, often a token) and every query-string
 * value masked; scheme, host, port, path and query keys kept.
 */
export function maskUrl(text: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text;
  let out = text.replace(URL_CREDENTIALS, (_m, scheme: string, cred: string) => {
    const colon = cred.indexOf(':');
    if (colon >= 0) return `${scheme}${cred.slice(0, colon)}:${MASK}@`;
    return /^https?:/i.test(scheme) ? `${scheme}${MASK}@` : `${scheme}${cred}@`;
  });
  const query = out.indexOf('?');
  if (query >= 0) {
    const hash = out.indexOf('#', query);
    const end = hash >= 0 ? hash : out.length;
    const masked = out
      .slice(query + 1, end)
      .split('&')
      .map((part) => {
        const eq = part.indexOf('=');
        return eq >= 0 && eq < part.length - 1 ? `${part.slice(0, eq)}=${MASK}` : part;
      })
      .join('&');
    out = `${out.slice(0, query + 1)}${masked}${out.slice(end)}`;
  }
  return out;
}

function walk(
  value: unknown,
  path: PropertyKey[],
  visit: (s: string, path: PropertyKey[]) => string,
): unknown {
  if (typeof value === 'string') return visit(value, path);
  if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i], visit));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = walk(v, [...path, k], visit);
    return out;
  }
  return value;
}

/**
 * Every secret value: secret-named keys, notification URLs, header values off the allow-list, and the
 * credentials and query values inside URLs. Any text can then be scrubbed of them ({@link scrub}).
 */
export function collectSecrets(config: unknown): string[] {
  const secrets = new Set<string>();
  walk(config, [], (s, path) => {
    if (!s) return s;
    const header = isSecretHeader(path) && !isSecretKey(path[path.length - 1]);
    if (header && s.length < MAYBE_SECRET_MIN) return s;
    if (header || isSecretKey(path[path.length - 1]) || isSecretUrlField(path)) {
      secrets.add(s);
      // `Authorization: Bearer <token>`: the token alone may show up elsewhere too.
      const word = /^\S+\s+(\S+)$/.exec(s)?.[1];
      if (word) secrets.add(word);
    }
    for (const part of urlSecrets(s)) secrets.add(part);
    return s;
  });
  return [...secrets].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
}

/** A copy of the config with every secret masked, fit to print. */
export function maskConfig<T>(config: T): T {
  return walk(config, [], (s, path) => {
    if (isSecretKey(path[path.length - 1]) || isSecretHeader(path)) return MASK;
    if (isSecretUrlField(path)) return s.replace(/^(https?:\/\/[^/]+)\/.*$/i, `$1/${MASK}`);
    return maskUrl(s);
  }) as T;
}

/** `text` with every occurrence of each secret replaced by a mask. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(MASK);
  return out;
}
