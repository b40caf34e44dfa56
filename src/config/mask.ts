/** Secrets in the config: finding them, masking them for display, scrubbing them from any text. */
import { isSecretKey } from './issues.js';

const MASK = '********';
const URL_CREDENTIALS = /^([a-z][a-z0-9+.-]*:\/\/)([^/@\s]*)@/i;

/** Whether a string field under this key holds a URL that is itself a secret (webhook URLs). */
function isSecretUrlField(path: readonly PropertyKey[]): boolean {
  return path[0] === 'notifications' && path[path.length - 1] === 'url';
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

/** Every secret value: secret-named keys, credentials inside URLs, notification URLs. */
export function collectSecrets(config: unknown): string[] {
  const secrets = new Set<string>();
  walk(config, [], (s, path) => {
    if (!s) return s;
    if (isSecretKey(path[path.length - 1]) || isSecretUrlField(path)) secrets.add(s);
    const cred = URL_CREDENTIALS.exec(s)?.[2];
    const password = cred?.includes(':') ? decodeURIComponent(cred.slice(cred.indexOf(':') + 1)) : undefined;
    if (password) {
      secrets.add(password);
      secrets.add(cred!.slice(cred!.indexOf(':') + 1));
    }
    return s;
  });
  return [...secrets].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
}

/** A copy of the config with every secret masked, fit to print. */
export function maskConfig<T>(config: T): T {
  return walk(config, [], (s, path) => {
    if (isSecretKey(path[path.length - 1])) return MASK;
    if (isSecretUrlField(path)) return s.replace(/^(https?:\/\/[^/]+)\/.*$/i, `$1/${MASK}`);
    return s.replace(URL_CREDENTIALS, (_m, scheme: string, cred: string) =>
      cred.includes(':') ? `${scheme}${cred.slice(0, cred.indexOf(':'))}:${MASK}@` : `${scheme}${cred}@`,
    );
  }) as T;
}

/** `text` with every occurrence of each secret replaced by a mask. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(MASK);
  return out;
}
