/**
 * Dashboard sessions: sign-in with a configured user (scrypt password hash) or an API token, a signed
 * HTTP-only SameSite=Strict cookie, a synchronizer CSRF token per session plus an Origin /
 * Sec-Fetch-Site check on every state-changing request, logout (revocation that survives restarts),
 * and a limit on failed sign-ins.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { ResolvedConfig } from '../config/load.js';
import { isUserRole, type UserRole } from '../config/sections/auth.js';
import type { Clock } from '../core/clock.js';
import type { Store } from '../store/index.js';
import type { Principal, SessionVerifier } from './auth.js';
import { cookie, isUnsafe, parseCookies, sameOrigin, unmaskCsrf } from './cookies.js';
import { LoginLimiter } from './login-limit.js';
import { hashPassword, verifyPassword } from './password.js';

/** The roles a signed-in session can have: a user's (push tokens cannot sign in). */
export type SessionRole = UserRole;

export { isUnsafe, maskCsrf, parseCookies, sameOrigin } from './cookies.js';
export { LoginLimiter } from './login-limit.js';
export { hashPassword, verifyPassword } from './password.js';

/** Name of the session cookie. */
export const SESSION_COOKIE = 'prodmon_session';
/** Name of the pre-session cookie that protects the sign-in form (double submit). */
export const LOGIN_COOKIE = 'prodmon_login';
/** Header carrying the CSRF token on scripted requests. */
export const CSRF_HEADER = 'x-csrf-token';

const SECRET_KEY = 'auth.session_key';
const REVOKED_KEY = 'auth.revoked_sessions';
const REVOKED_REFRESH_MS = 15_000;

const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const fingerprint = (s: string) => createHash('sha256').update(s).digest('base64url').slice(0, 12);

/** What a session cookie says (signed). */
interface SessionClaims {
  /** Session id. */
  sid: string;
  /** User or token name. */
  sub: string;
  /** Signed in with a password (`user`) or an API token (`token`). */
  via: 'user' | 'token';
  /** Fingerprint of the credential: changing the password or token ends its sessions. */
  cf: string;
  iat: number;
  exp: number;
}

/** A signed-in dashboard user. */
export interface Session extends Principal {
  /** A session reads or acts; push tokens cannot sign in. */
  role: SessionRole;
  sid: string;
  via: 'user' | 'token';
  expiresAt: number;
  /** The token to send back with state-changing requests. */
  csrf: string;
}

/** The outcome of a sign-in attempt. */
export type LoginResult =
  | { ok: true; session: Session; cookie: string }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'limited'; retryAfterMs: number };

/** What the session manager needs. */
export interface SessionOptions {
  config: ResolvedConfig;
  clock: Clock;
  store: Store;
}

/** Issues, verifies and revokes dashboard sessions. */
export class SessionManager implements SessionVerifier {
  readonly limiter: LoginLimiter;
  readonly #config: ResolvedConfig;
  readonly #clock: Clock;
  readonly #store: Store;
  #key: Buffer | null = null;
  #revoked = new Map<string, number>();
  #revokedLoadedAt = Number.NEGATIVE_INFINITY;
  /** Dummy hash verified for unknown names, so timing does not tell which names exist. */
  #dummyHash: Promise<string> | null = null;

  constructor(opts: SessionOptions) {
    this.#config = opts.config;
    this.#clock = opts.clock;
    this.#store = opts.store;
    this.limiter = new LoginLimiter({
      clock: opts.clock,
      maxFailures: opts.config.auth.login_max_failures,
      windowMs: opts.config.auth.login_window,
    });
  }

  /** Path the cookies are scoped to (the dashboard and the API). */
  get cookiePath(): string {
    return `${this.#config.server.prefix}/production/`;
  }

  /** Whether any way to sign in is configured. */
  get configured(): boolean {
    return this.#config.auth.tokens.length > 0 || this.#config.auth.users.length > 0;
  }

  async #signingKey(): Promise<Buffer> {
    if (this.#key) return this.#key;
    const configured = this.#config.auth.session_secret;
    if (configured) {
      this.#key = createHash('sha256').update(`prodmon-session:${configured}`).digest();
      return this.#key;
    }
    let stored = await this.#store.state.get<string>(SECRET_KEY);
    if (typeof stored !== 'string' || stored.length < 32) {
      await this.#store.state.set(SECRET_KEY, randomBytes(32).toString('base64'), this.#clock.now());
      stored = (await this.#store.state.get<string>(SECRET_KEY)) ?? '';
    }
    this.#key = Buffer.from(stored, 'base64');
    return this.#key;
  }

  #mac(key: Buffer, data: string): Buffer {
    return createHmac('sha256', key).update(data).digest();
  }

  /** Role and credential fingerprint of a name, from the current config (null: no such credential). */
  #credential(via: 'user' | 'token', name: string): { role: SessionRole; cf: string } | null {
    if (via === 'user') {
      const u = this.#config.auth.users.find((x) => x.name === name);
      return u ? { role: u.role, cf: fingerprint(u.password_hash) } : null;
    }
    const t = this.#config.auth.tokens.find((x) => x.name === name);
    return t && isUserRole(t.role) ? { role: t.role, cf: fingerprint(t.token) } : null;
  }

  /**
   * Signs in with a user name and password, or with an API token (name empty), for client `ip`.
   * Attempts count per address and name from the moment they start (a success gives its attempt back);
   * beyond the limit answers `limited` without checking, however many attempts run at once.
   */
  async login(input: { name?: string; password?: string; token?: string; ip: string }): Promise<LoginResult> {
    const limitKey = input.token !== undefined ? `token` : `user:${(input.name ?? '').toLowerCase()}`;
    const wait = this.limiter.attempt(input.ip, limitKey);
    if (wait > 0) return { ok: false, reason: 'limited', retryAfterMs: wait };
    let who: { via: 'user' | 'token'; name: string } | null = null;
    if (input.token !== undefined) {
      const p = this.#tokenPrincipal(input.token);
      if (p) who = { via: 'token', name: p.name };
    } else {
      const user = this.#config.auth.users.find((u) => u.name === input.name);
      this.#dummyHash ??= hashPassword('not a password');
      const ok = await verifyPassword(input.password ?? '', user?.password_hash ?? (await this.#dummyHash));
      if (user && ok) who = { via: 'user', name: user.name };
    }
    if (!who) return { ok: false, reason: 'invalid' };
    this.limiter.succeed(input.ip, limitKey);
    return this.#issue(who.via, who.name);
  }

  #tokenPrincipal(token: string): Principal | null {
    const digest = (s: string) => createHash('sha256').update(s).digest();
    const hash = digest(token);
    let found: Principal | null = null;
    for (const t of this.#config.auth.tokens) {
      if (timingSafeEqual(hash, digest(t.token)) && !found) found = { name: t.name, role: t.role };
    }
    return found && isUserRole(found.role) ? found : null; // a push or deploy token cannot sign in to the dashboard
  }

  async #issue(via: 'user' | 'token', name: string): Promise<LoginResult> {
    const cred = this.#credential(via, name)!;
    const now = this.#clock.now();
    const claims: SessionClaims = {
      sid: randomBytes(16).toString('base64url'),
      sub: name,
      via,
      cf: cred.cf,
      iat: now,
      exp: now + this.#config.auth.session_ttl,
    };
    const key = await this.#signingKey();
    const body = b64u(JSON.stringify(claims));
    const value = `${body}.${b64u(this.#mac(key, body))}`;
    const session = this.#session(key, claims, cred.role);
    return { ok: true, session, cookie: value };
  }

  #session(key: Buffer, c: SessionClaims, role: SessionRole): Session {
    return {
      name: c.sub,
      role,
      sid: c.sid,
      via: c.via,
      expiresAt: c.exp,
      csrf: b64u(this.#mac(key, `csrf:${c.sid}`)),
    };
  }

  /** The session of a request's cookie, or null (missing, forged, expired, revoked, credential gone). */
  async fromRequest(req: FastifyRequest): Promise<Session | null> {
    const value = parseCookies(req.headers.cookie)[SESSION_COOKIE];
    if (!value) return null;
    return this.verify(value);
  }

  /** The session of a cookie value, or null. */
  async verify(value: string): Promise<Session | null> {
    const dot = value.indexOf('.');
    if (dot < 1 || value.length > 2048) return null;
    const body = value.slice(0, dot);
    const key = await this.#signingKey();
    const given = Buffer.from(value.slice(dot + 1), 'base64url');
    const mac = this.#mac(key, body);
    if (given.length !== mac.length || !timingSafeEqual(given, mac)) return null;
    let c: SessionClaims;
    try {
      c = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as SessionClaims;
    } catch {
      return null;
    }
    if (typeof c.exp !== 'number' || c.exp <= this.#clock.now()) return null;
    const cred = this.#credential(c.via, c.sub);
    if (!cred || cred.cf !== c.cf) return null;
    if (await this.#isRevoked(c.sid)) return null;
    return this.#session(key, c, cred.role);
  }

  async #isRevoked(sid: string): Promise<boolean> {
    const now = this.#clock.now();
    if (now - this.#revokedLoadedAt >= REVOKED_REFRESH_MS) {
      const stored = (await this.#store.state.get<Record<string, number>>(REVOKED_KEY)) ?? {};
      for (const [k, exp] of Object.entries(stored)) this.#revoked.set(k, exp);
      this.#revokedLoadedAt = now;
    }
    return this.#revoked.has(sid);
  }

  /** Ends a session everywhere (kept in the store until it would have expired anyway). */
  async revoke(session: Session): Promise<void> {
    const now = this.#clock.now();
    const stored = (await this.#store.state.get<Record<string, number>>(REVOKED_KEY)) ?? {};
    const kept: Record<string, number> = {};
    for (const [k, exp] of Object.entries(stored)) if (exp > now) kept[k] = exp;
    kept[session.sid] = session.expiresAt;
    await this.#store.state.set(REVOKED_KEY, kept, now);
    this.#revoked.set(session.sid, session.expiresAt);
    for (const [k, exp] of this.#revoked) if (exp <= now) this.#revoked.delete(k);
  }

  /** Whether the request should get `Secure` cookies (https seen, or configured). */
  secure(req: FastifyRequest): boolean {
    return this.#config.auth.secure_cookies || req.protocol === 'https';
  }

  /** `Set-Cookie` value for a session (empty value and age 0 to clear it). */
  sessionCookie(req: FastifyRequest, value: string | null): string {
    const maxAge = value ? Math.floor(this.#config.auth.session_ttl / 1000) : 0;
    return cookie(SESSION_COOKIE, value ?? '', this.cookiePath, maxAge, this.secure(req));
  }

  /** `Set-Cookie` value of the sign-in form's double-submit token. */
  loginCookie(req: FastifyRequest, value: string | null): string {
    return cookie(LOGIN_COOKIE, value ?? '', this.cookiePath, value ? 3600 : 0, this.secure(req));
  }

  /** Whether a state-changing request comes from this site (Sec-Fetch-Site, Origin) — see {@link sameOrigin}. */
  sameOrigin(req: FastifyRequest): boolean {
    return sameOrigin(req, this.#config.server.public_url);
  }

  /**
   * Checks a state-changing request made with a session: the CSRF token (header or `_csrf` field)
   * must match the session's, and the request must not come from another origin.
   */
  checkCsrf(req: FastifyRequest, session: Session): boolean {
    if (!this.sameOrigin(req)) return false;
    const header = req.headers[CSRF_HEADER];
    const body = req.body as Record<string, unknown> | undefined;
    const given =
      (typeof header === 'string' ? header : undefined) ??
      (body && typeof body === 'object' && typeof body._csrf === 'string' ? body._csrf : undefined);
    if (!given) return false;
    const a = unmaskCsrf(given);
    const b = Buffer.from(session.csrf, 'base64url');
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** For `requireRole`: the session principal of a request, or why it cannot act. */
  async principal(req: FastifyRequest): Promise<{ principal: Principal } | { error: 'csrf' } | null> {
    const s = await this.fromRequest(req);
    if (!s) return null;
    if (isUnsafe(req.method) && !this.checkCsrf(req, s)) return { error: 'csrf' };
    return { principal: { name: s.name, role: s.role } };
  }
}
