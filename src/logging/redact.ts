/**
 * Redaction before a line is written: secret-named keys at any depth, credentials in connection strings,
 * bearer/basic tokens and payment card numbers in free text, and the config's own secret values anywhere.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import pino from 'pino';

/** What replaces the value of a secret-named key. */
export const REDACTED = '[REDACTED]';
/** What replaces a secret inside free text. */
export const MASK = '***';
const MAX_DEPTH = 16;
const KEY_CACHE_LIMIT = 10_000;

// Keys are compared lower-cased without `-`, `_`, spaces and dots: `api_key`, `apiKey`, `X-Api-Key` -> `apikey`.
const ANYWHERE = ['password', 'passwd', 'passphrase', 'secret', 'credential'];
const SUFFIXES = [
  'token',
  'tokens',
  'apikey',
  'authorization',
  'cookie',
  'cardnumber',
  'privatekey',
  'routingkey',
  'sessionid',
  'pwd',
];
const EXACT = ['pass', 'cvv', 'cvc', 'pan'];

/** Redacts values: `value` walks objects (copying only what changes), `text` masks free text. */
export interface Redactor {
  /** `v` with secrets removed at any depth; the same reference when nothing needed to change. */
  value(v: unknown): unknown;
  /** `s` with credentials, tokens, card numbers and configured secrets masked. */
  text(s: string): string;
  /** Whether values under this key are replaced whole. */
  isSecretKey(key: string): boolean;
}

/** Normal form of a key for matching. */
export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[-_\s.]/g, '');
}

/** Luhn checksum of a string of digits (payment card numbers pass it). */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

// Words that may name a secret in `key=value` / `"key":"value"` text (a first look; the key is then checked).
const KEY_WORDS = [
  'pass',
  'pwd',
  'secret',
  'cred',
  'token',
  'key',
  'session',
  'cookie',
  'authori',
  'card',
  'cvv',
  'cvc',
  'pan',
];
const HAS_CARD = /[2-6](?:[ -]?\d){12}/;
const HAS_AUTH = /b(?:earer|asic)\s/i;
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*):([^\s/?#]*)@/gi;
// `password=x`, `db_password: x`, `?api_key=x&`, `Cookie: sid=x` in DSNs, query strings, headers, messages.
// (A `scheme://` is not a key: the URL's own parts are looked at instead.)
const KV =
  /(?<![A-Za-z0-9_-])([A-Za-z][A-Za-z0-9_.-]{0,63})(\s*(?:=|:(?!\/\/))\s*)((?:[Bb]earer|BEARER|[Bb]asic|BASIC)\s+)?[^\s;&,'"]+/g;
// `"password":"x"` (JSON inside a message, e.g. from `%o`).
const JSON_KV = /"((?:[^"\\]|\\.){1,64})"(\s*:\s*)"((?:[^"\\]|\\.)*)"/g;
// `Bearer <token>` / `Basic <base64>`; at least 8 characters so that prose ("basic auth") is left alone.
const AUTH_SCHEME = /\b(bearer|basic)(\s+)[A-Za-z0-9\-._~+/]{8,}=*/gi;
// 13-19 digits, optionally grouped by single spaces or dashes, starting 2-6 like the card networks' numbers
// (so epoch-millisecond timestamps, which start with 1, are not mistaken for cards); Luhn-checked below.
const CARD = /(?<!\d)[2-6](?:[ -]?\d){12,18}(?!\d)/g;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function maskCards(s: string): string {
  return s.replace(CARD, (m) => {
    const digits = m.replace(/[ -]/g, '');
    if (digits.length < 13 || digits.length > 19 || !luhnValid(digits)) return m;
    return `****${digits.slice(-4)}`;
  });
}

/** Builds a redactor for the built-in key list plus `keys` (exact, any depth) and secret `values`. */
export function createRedactor(
  opts: { keys?: readonly string[]; secrets?: readonly string[] } = {},
): Redactor {
  const exact = new Set([...EXACT, ...(opts.keys ?? []).map(normalizeKey)]);
  const secrets = [...new Set(opts.secrets ?? [])]
    .filter((s) => s.length >= 4)
    .sort((a, b) => b.length - a.length);
  const keyCache = new Map<string, boolean>();

  const isSecretKey = (key: string): boolean => {
    let hit = keyCache.get(key);
    if (hit !== undefined) return hit;
    const k = normalizeKey(key);
    hit = exact.has(k) || ANYWHERE.some((w) => k.includes(w)) || SUFFIXES.some((w) => k.endsWith(w));
    if (keyCache.size < KEY_CACHE_LIMIT) keyCache.set(key, hit);
    return hit;
  };

  const words = [...KEY_WORDS, ...(opts.keys ?? []).map((k) => k.toLowerCase())].map(escapeRegExp).join('|');
  const hasKv = new RegExp(words, 'i');
  // A cheap first look: most strings match none of the patterns and skip them all.
  const suspect = new RegExp(`${HAS_CARD.source}|:\\/\\/[^\\s/]*@|${HAS_AUTH.source}|${words}`, 'i');
  /** `s` with credentials, tokens, secret-named values and card numbers masked (not the configured secrets). */
  const maskPatterns = (s: string): string => {
    if (s.length < 6 || !suspect.test(s)) return s;
    let out = s;
    if (HAS_AUTH.test(out)) out = out.replace(AUTH_SCHEME, `$1$2${MASK}`);
    if (hasKv.test(out)) {
      out = out.replace(JSON_KV, (m, k: string, sep: string) =>
        isSecretKey(k) ? `"${k}"${sep}"${MASK}"` : m,
      );
      out = out.replace(KV, (m, k: string, sep: string, scheme?: string) =>
        isSecretKey(k) ? `${k}${sep}${scheme ?? ''}${MASK}` : m,
      );
    }
    if (out.includes('@') && out.includes('://')) out = out.replace(URL_PASSWORD, `$1:${MASK}@`);
    if (HAS_CARD.test(out)) out = maskCards(out);
    return out;
  };
  const scrubSecrets = (s: string): string => {
    let out = s;
    for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(MASK);
    return out;
  };
  const text = (s: string): string => maskPatterns(secrets.length > 0 ? scrubSecrets(s) : s);

  const stack: object[] = [];
  const walkArray = (arr: readonly unknown[], depth: number): unknown[] => {
    let copy: unknown[] | undefined;
    for (let i = 0; i < arr.length; i++) {
      const item = arr[i];
      const next = typeof item === 'string' ? text(item) : walk(item, depth + 1);
      if (next !== item && !copy) copy = arr.slice();
      if (copy) copy[i] = next;
    }
    return copy ?? (arr as unknown[]);
  };
  const walkObject = (
    obj: Record<string, unknown>,
    depth: number,
    owned: boolean,
  ): Record<string, unknown> => {
    let copy: Record<string, unknown> | undefined = owned ? obj : undefined;
    const keys = Object.keys(obj);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const item = obj[key];
      let next: unknown;
      if (item === undefined || item === null) next = item;
      else if (isSecretKey(key)) next = REDACTED;
      else if (typeof item === 'string') next = text(item);
      else if (typeof item === 'object') next = walk(item, depth + 1);
      else next = item;
      const safeKey = secrets.length === 0 ? key : scrubSecrets(key);
      if (next === item && safeKey === key) continue;
      copy ??= { ...obj };
      if (safeKey !== key) delete copy[key];
      copy[safeKey] = next;
    }
    return copy ?? obj;
  };
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return text(v);
    if (v === null || typeof v !== 'object') return v;
    if (depth >= MAX_DEPTH) return '[Truncated]';
    if (stack.includes(v)) return '[Circular]';
    stack.push(v);
    try {
      const proto = Object.getPrototypeOf(v);
      if (proto === Object.prototype || proto === null)
        return walkObject(v as Record<string, unknown>, depth, false);
      if (Array.isArray(v)) return walkArray(v, depth);
      if (v instanceof Error) return walkObject(pino.stdSerializers.err(v) as never, depth, true);
      if (v instanceof IncomingMessage)
        return walkObject(pino.stdSerializers.req(v as never) as never, depth, true);
      if (v instanceof ServerResponse) return walkObject(pino.stdSerializers.res(v) as never, depth, true);
      if (v instanceof Date || ArrayBuffer.isView(v) || v instanceof Map || v instanceof Set) return v;
      const toJSON = (v as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return walk(toJSON.call(v), depth + 1);
      return walkObject(v as Record<string, unknown>, depth, false);
    } finally {
      stack.pop();
    }
  };

  return {
    value: (v) => {
      try {
        return walk(v, 0);
      } catch {
        // A throwing getter or toJSON: log that, never the object.
        stack.length = 0;
        return { unserializable: true };
      }
    },
    text: (s) => text(s),
    isSecretKey,
  };
}
