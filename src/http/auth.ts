/** Bearer-token authentication: tokens from `auth.tokens`, compared in constant time, with roles. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '../config/sections/auth.js';
import { isUnsafe } from './cookies.js';

/** Who a request is. */
export interface Principal {
  name: string;
  role: Role;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Dashboard sessions as a second way in (cookie); implemented by SessionManager in ./session.ts. The
 * session and the origin are judged from the headers; the CSRF token may come from the parsed body.
 */
export interface SessionVerifier {
  /** The signed-in session of a request's cookie, or null (none, forged, expired, revoked). */
  fromRequest(req: FastifyRequest): Promise<Principal | null>;
  /** Whether a state-changing request comes from this site (`Sec-Fetch-Site`, `Origin`). */
  sameOrigin(req: FastifyRequest): boolean;
  /** Whether a state-changing request carries the session's CSRF token (header, or `_csrf` in the body). */
  checkCsrf(req: FastifyRequest, session: Principal): boolean;
}

/** Checks bearer tokens against the configured list (and, when given, dashboard sessions). */
export class TokenAuth {
  readonly #tokens: { name: string; role: Role; hash: Buffer }[];
  /** Session cookies accepted where no bearer token is sent. */
  readonly sessions: SessionVerifier | undefined;
  /** Where refused requests are reported (the security log and the `failed_logins` rule); set by the HTTP layer. */
  events: AuthEvents | undefined;

  constructor(tokens: readonly { name: string; token: string; role: Role }[], sessions?: SessionVerifier) {
    this.#tokens = tokens.map((t) => ({ name: t.name, role: t.role, hash: digest(t.token) }));
    this.sessions = sessions;
  }

  /** Whether any token is configured. */
  get configured(): boolean {
    return this.#tokens.length > 0;
  }

  /** The principal of a raw token, comparing against every configured token (no early exit). */
  verify(token: string): Principal | null {
    const hash = digest(token);
    let found: Principal | null = null;
    for (const t of this.#tokens) {
      if (timingSafeEqual(hash, t.hash) && !found) found = { name: t.name, role: t.role };
    }
    return found;
  }

  /** The principal of a request's `Authorization: Bearer` header, or null. */
  fromHeader(header: string | undefined): Principal | null {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    return m ? this.verify(m[1]!) : null;
  }
}

/** Whether a role may do what needs `needed` (admin may do everything; push only push). */
export function allows(role: Role, needed: Role): boolean {
  return role === 'admin' || role === needed;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Why a request was refused: no credential, a wrong one, or one that may not do this. */
export type AuthFailure = 'missing' | 'invalid' | 'forbidden';

/** Hooks for the audit of authentication outcomes. */
export interface AuthEvents {
  onFailure(req: FastifyRequest, reason: AuthFailure): void;
  onSuccess?(req: FastifyRequest, p: Principal): void;
  /** A failed dashboard sign-in (`limited`: refused by the sign-in limit without checking). */
  signInFailed?(
    req: FastifyRequest,
    who: { user?: string; via: 'password' | 'token'; limited: boolean },
  ): void;
}

/** The largest unread body dropped after an early answer (bytes); a longer one ends the connection. */
export const UNREAD_DRAIN_LIMIT = 1024 * 1024;

/** Header carrying the CSRF token on scripted requests. */
const CSRF_HEADER = 'x-csrf-token';

/** Whether a request announces a body (a length above 0, or chunked). */
export function hasBody(req: FastifyRequest): boolean {
  const len = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (len !== undefined && len !== '0');
}

/**
 * For a reply sent before the request's body is read: the body is never parsed nor buffered. One of at
 * most {@link UNREAD_DRAIN_LIMIT} bytes (by its `Content-Length`) is read and dropped after the answer, so
 * the connection stays usable; a longer or chunked one is not read at all: the connection is closed once
 * the answer is written (`Connection: close`).
 */
export function closeUnread(reply: FastifyReply): FastifyReply {
  const req = reply.request;
  if (!hasBody(req) || req.raw.readableEnded) return reply;
  const len = Number(req.headers['content-length']);
  if (req.headers['transfer-encoding'] !== undefined || !(len <= UNREAD_DRAIN_LIMIT))
    reply.header('connection', 'close');
  return reply;
}

function error(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return closeUnread(reply).code(status).send({ error: { code, message } });
}

/** Sessions waiting for their CSRF token to be read from the body (see {@link requireRole}). */
const csrfFromBody = new WeakMap<FastifyRequest, Principal>();

/** Fastify route options that authenticate a request (from {@link requireRole}). */
export interface AuthHooks {
  onRequest: (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;
  preHandler: (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;
}

/**
 * Route options requiring a token with `role`: 401 without a valid one, 403 for too weak a role. The
 * check runs in `onRequest`, from the headers alone, before any body is read: a refused request's body
 * is never read or parsed (its connection is closed after the answer). A session cookie is accepted where
 * no `Authorization` header is sent; a state-changing request with it must come from this site, and its
 * CSRF token is checked from the `X-CSRF-Token` header at once, or else from the parsed body's `_csrf`
 * field in `preHandler` (a form post of a signed-in user). Failures go to `auth.events` (or `events`).
 */
export function requireRole(auth: TokenAuth, role: Role, events?: AuthEvents): AuthHooks {
  const fail = (req: FastifyRequest, reason: AuthFailure) => (events ?? auth.events)?.onFailure(req, reason);
  const forbidden = (reply: FastifyReply, message: string) =>
    error(reply, 403, 'PRODMON_E_FORBIDDEN', message);
  const csrfRefused = (req: FastifyRequest, reply: FastifyReply) => {
    fail(req, 'forbidden');
    return forbidden(reply, 'cross-site request or missing CSRF token: refused');
  };
  const onRequest = async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.principal && allows(req.principal.role, role)) return;
    const header = req.headers.authorization;
    let p = auth.fromHeader(header);
    if (!p && !header && auth.sessions) {
      const s = await auth.sessions.fromRequest(req);
      if (s && isUnsafe(req.method)) {
        if (!auth.sessions.sameOrigin(req)) return csrfRefused(req, reply);
        if (req.headers[CSRF_HEADER] !== undefined) {
          if (!auth.sessions.checkCsrf(req, s)) return csrfRefused(req, reply);
        } else if (hasBody(req)) csrfFromBody.set(req, s);
        else return csrfRefused(req, reply);
      }
      p = s ? { name: s.name, role: s.role } : null;
    }
    if (!p) {
      fail(req, header ? 'invalid' : 'missing');
      reply.header('WWW-Authenticate', 'Bearer realm="prodmon"');
      return error(
        reply,
        401,
        'PRODMON_E_UNAUTHORIZED',
        auth.configured
          ? 'a valid bearer token is required (Authorization: Bearer <token>)'
          : 'no tokens are configured: add one under auth.tokens in prodmon.yaml',
      );
    }
    if (!allows(p.role, role)) {
      fail(req, 'forbidden');
      csrfFromBody.delete(req);
      return forbidden(reply, `token "${p.name}" has role "${p.role}"; this needs "${role}"`);
    }
    req.principal = p;
    (events ?? auth.events)?.onSuccess?.(req, p);
  };
  const preHandler = async (req: FastifyRequest, reply: FastifyReply) => {
    const s = csrfFromBody.get(req);
    if (!s) return;
    csrfFromBody.delete(req);
    if (!auth.sessions?.checkCsrf(req, s)) return csrfRefused(req, reply);
  };
  return { onRequest, preHandler };
}
