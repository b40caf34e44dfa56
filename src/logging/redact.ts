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
const ANYWHERE = ['password', 'passwd', 'secret'];
const SUFFIXES = ['token', 'tokens', 'apikey', 'authorization', 'cookie', 'cardnumber', 'privatekey', 'pwd'];
const EXACT = ['cvv', 'cvc', 'pan'];

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

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// A cheap first look: most strings have none of these and skip the real patterns.
const SUSPECT = /\d[ -]?\d[ -]?\d[ -]?\d[ -]?\d[ -]?\d|:\/\/|bearer|basic|pass|pwd|secret|token/i;
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*):([^\s/?#]*)@/gi;
const KV_PASSWORD = /\b(password|passwd|pwd|secret|api[_-]?key|access[_-]?token)(\s*[=:]\s*)([^\s;&,'"]+)/gi;
const AUTH_SCHEME = /\b(bearer|basic)(\s+)[A-Za-z0-9\-._~+/]+=*/gi;
const CARD = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])/g;

function maskCards(s: string): string {
  return s.replace(CARD, (m) => {
    const digits = m.replace(/[ -]/g, '');
    if (digits.length < 13 || digits.length > 19 || !luhnValid(digits)) return m;
    return `****${digits.slice(-4)}`;
  });
}

/** Builds a redactor for the built-in key list plus `keys` (exact, any depth) and secret `values`. */
export function createRedactor(opts: { keys?: readonly string[]; secrets?: readonly string[] } = {}): Redactor {
  const exact = new Set([...EXACT, ...(opts.keys ?? []).map(normalizeKey)]);
  const secrets = [...new Set(opts.secrets ?? [])].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  const secretRe = secrets.length > 0 ? new RegExp(secrets.map(escapeRegExp).join('|'), 'g') : null;
  const keyCache = new Map<string, boolean>();

  const isSecretKey = (key: string): boolean => {
    let hit = keyCache.get(key);
    if (hit !== undefined) return hit;
    const k = normalizeKey(key);
    hit = exact.has(k) || ANYWHERE.some((w) => k.includes(w)) || SUFFIXES.some((w) => k.endsWith(w));
    if (keyCache.size < KEY_CACHE_LIMIT) keyCache.set(key, hit);
    return hit;
  };

  const text = (s: string): string => {
    let out = s;
    if (secretRe !== null && secretRe.test(out)) {
      secretRe.lastIndex = 0;
      out = out.replace(secretRe, MASK);
    }
    if (out.length < 6 || !SUSPECT.test(out)) return out;
    return maskCards(
      out
        .replace(URL_PASSWORD, `$1:${MASK}@`)
        .replace(KV_PASSWORD, `$1$2${MASK}`)
        .replace(AUTH_SCHEME, `$1$2${MASK}`),
    );
  };

  const stack: object[] = [];
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return text(v);
    if (v === null || typeof v !== 'object') return v;
    if (stack.includes(v)) return '[Circular]';
    if (depth >= MAX_DEPTH) return '[Truncated]';
    let src: object = v;
    if (v instanceof Error) src = pino.stdSerializers.err(v);
    else if (v instanceof IncomingMessage) src = pino.stdSerializers.req(v as never);
    else if (v instanceof ServerResponse) src = pino.stdSerializers.res(v);
    else if (v instanceof Date || ArrayBuffer.isView(v) || v instanceof Map || v instanceof Set) return v;
    else if (typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      return walk((v as { toJSON(): unknown }).toJSON(), depth);
    }
    stack.push(v);
    try {
      if (Array.isArray(src)) {
        let copy: unknown[] | undefined;
        for (let i = 0; i < src.length; i++) {
          const item = src[i];
          const next = walk(item, depth + 1);
          if (next !== item && !copy) copy = src.slice();
          if (copy) copy[i] = next;
        }
        return copy ?? src;
      }
      let copy: Record<string, unknown> | undefined = src === v ? undefined : { ...src };
      for (const key in src) {
        if (!Object.hasOwn(src, key)) continue;
        const item = (src as Record<string, unknown>)[key];
        const next = item !== undefined && item !== null && isSecretKey(key) ? REDACTED : walk(item, depth + 1);
        const safeKey = secretRe === null ? key : text(key);
        if ((next !== item || safeKey !== key) && !copy) copy = { ...src };
        if (copy) {
          if (safeKey !== key) delete copy[key];
          copy[safeKey] = next;
        }
      }
      return copy ?? src;
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
