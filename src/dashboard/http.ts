/**
 * HTTP helpers shared by the dashboard routes and its JSON API: who is asking
 * (bearer token or session), the form body parser, and safe return paths.
 */
import { parse as parseQuery } from 'node:querystring';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isUserRole } from '../config/sections/auth.js';
import type { TokenAuth } from '../http/auth.js';
import { maskCsrf, type Session, type SessionManager } from '../http/session.js';

/** Who is asking: a bearer token's principal, or a signed-in session. */
export interface Caller {
  name: string;
  role: 'admin' | 'read';
  /** The session (null for bearer tokens, which need no CSRF token). */
  session: Session | null;
}

/**
 * The caller of a request: a valid bearer token wins; otherwise the session cookie. `invalid` when a
 * bearer token is sent but not valid (never falls back to the cookie then; reported to `auth.events`).
 */
export async function callerOf(
  req: FastifyRequest,
  auth: TokenAuth,
  sessions: SessionManager,
): Promise<Caller | 'invalid' | null> {
  const header = req.headers.authorization;
  if (header) {
    const p = auth.fromHeader(header);
    // a push token sends metrics, a deploy token records deploys, and nothing else: no key to the dashboard
    if (p && isUserRole(p.role)) return { name: p.name, role: p.role, session: null };
    auth.events?.onFailure(req, p ? 'forbidden' : 'invalid');
    return 'invalid';
  }
  const s = await sessions.fromRequest(req);
  return s ? { name: s.name, role: s.role, session: s } : null;
}

/**
 * Whether a state-changing request may proceed: bearer callers always (no ambient credential),
 * session callers only with the session's CSRF token and from this site.
 */
export function csrfOk(req: FastifyRequest, caller: Caller, sessions: SessionManager): boolean {
  return caller.session === null || sessions.checkCsrf(req, caller.session);
}

/**
 * Parses `application/x-www-form-urlencoded` bodies (into an object; repeated keys become arrays).
 * Mounted behind a host app's body parser, an already-parsed object arrives as JSON and is kept.
 */
export function addFormParser(app: FastifyInstance): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 64 * 1024 },
    (_req, body, done) => {
      const text = String(body);
      if (text.startsWith('{')) {
        try {
          return done(null, JSON.parse(text));
        } catch {
          // not JSON after all: parse as a form
        }
      }
      done(null, { ...parseQuery(text) });
    },
  );
}

/**
 * A return path under `base` taken from user input, or `fallback`: only same-site absolute paths of
 * plain characters, never `//host`, backslashes or schemes (no open redirect).
 */
export function safeReturn(value: string, base: string, fallback: string): string {
  if (!value || value.length > 500) return fallback;
  if (!(value === base || value.startsWith(`${base}/`) || value.startsWith(`${base}?`))) return fallback;
  if (/[\\\s]|\/\/|\/\.\.?(\/|$|\?)|%2e|%2f|%5c/i.test(value)) return fallback;
  if (!/^[\w\-./?=&%,~:+]*$/.test(value)) return fallback;
  return value;
}

/** The CSRF token to put in a page for a caller (masked afresh each time; '' for bearer callers). */
export function pageCsrf(c: Caller): string {
  return c.session ? maskCsrf(c.session.csrf) : '';
}
