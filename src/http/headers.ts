/**
 * The security headers of every dashboard and API response (src/http/routes and src/dashboard set them
 * through `secure`).
 */
import type { FastifyReply } from 'fastify';

/** The page's Content-Security-Policy: own scripts and styles only, no inline code, no framing. */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Headers of every dashboard and API response. */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

/** Sets the security headers (and `no-store` unless `cache` is given). */
export function secure(reply: FastifyReply, cache = 'no-store'): FastifyReply {
  return reply.headers(SECURITY_HEADERS).header('cache-control', cache);
}
