/**
 * Cookie and request-origin helpers of the dashboard's sessions: parsing and writing cookies, the
 * same-origin check of state-changing requests, and the masking of CSRF tokens in pages.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

/** Parses a `Cookie` header. */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i < 1) continue;
    const k = part.slice(0, i).trim();
    if (!(k in out)) {
      try {
        out[k] = decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        out[k] = part.slice(i + 1).trim();
      }
    }
  }
  return out;
}

/**
 * The CSRF token as put in a page: a fresh random pad and the token XORed with it, so a compressed
 * response never repeats the secret bytes (BREACH). Either form is accepted back.
 */
export function maskCsrf(token: string): string {
  const raw = Buffer.from(token, 'base64url');
  const pad = randomBytes(raw.length);
  const out = Buffer.alloc(raw.length * 2);
  pad.copy(out);
  for (let i = 0; i < raw.length; i++) out[raw.length + i] = raw[i]! ^ pad[i]!;
  return out.toString('base64url');
}

/** The token behind a masked one (an unmasked token is returned as its bytes). */
export function unmaskCsrf(given: string): Buffer {
  const buf = Buffer.from(given, 'base64url');
  if (buf.length !== 64) return buf;
  const raw = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) raw[i] = buf[i]! ^ buf[32 + i]!;
  return raw;
}

/** Whether an HTTP method changes state. */
export function isUnsafe(method: string): boolean {
  return !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase());
}

/**
 * Whether a request comes from this origin: `Sec-Fetch-Site` (sent by every current browser) must be
 * `same-origin`; without it, `Origin` (when sent) must name this host or the configured public URL.
 */
export function sameOrigin(req: FastifyRequest, publicUrl?: string): boolean {
  // Browsers set Sec-Fetch-Site themselves (pages cannot): when present it decides. (Origin may be
  // `null` on a same-origin form post under some referrer policies and privacy settings.)
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') return site === 'same-origin';
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (typeof origin !== 'string' || origin === 'null') return false;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  if (host && host === req.headers.host) return true;
  if (publicUrl) {
    try {
      return new URL(publicUrl).origin === new URL(origin).origin;
    } catch {
      return false;
    }
  }
  return false;
}

/** A `Set-Cookie` value: HTTP-only, SameSite=Strict, scoped to `path`. */
export function cookie(name: string, value: string, path: string, maxAge: number, secure: boolean): string {
  const parts = [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${path}`,
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${maxAge}`,
  ];
  if (secure) parts.push('Secure');
  return parts.join('; ');
}
