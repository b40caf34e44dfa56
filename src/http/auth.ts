/** Bearer-token authentication: tokens from `auth.tokens`, compared in constant time, with roles. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '../config/sections/auth.js';

/** Who a request is. */
export interface Principal {
  name: string;
  role: Role;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Dashboard sessions as a second way in (cookie); implemented by SessionManager in ./session.ts.
 * `error: 'csrf'` when a state-changing request with a session fails the CSRF / origin check.
 */
export interface SessionVerifier {
  principal(req: FastifyRequest): Promise<{ principal: Principal } | { error: 'csrf' } | null>;
}

/** Checks bearer tokens against the configured list (and, when given, dashboard sessions). */
export class TokenAuth {
  readonly #tokens: { name: string; role: Role; hash: Buffer }[];
  /** Session cookies accepted where no bearer token is sent. */
  readonly sessions: SessionVerifier | undefined;

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

/** Hook hooks for audit of authentication outcomes. */
export interface AuthEvents {
  onFailure(req: FastifyRequest, reason: 'missing' | 'invalid' | 'forbidden'): void;
  onSuccess?(req: FastifyRequest, p: Principal): void;
}

/** A Fastify preHandler that requires a token with `role`: 401 without a valid one, 403 for too weak a role. */
export function requireRole(auth: TokenAuth, role: Role, events?: AuthEvents) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.principal && allows(req.principal.role, role)) return;
    const header = req.headers.authorization;
    let p = auth.fromHeader(header);
    if (!p && !header && auth.sessions) {
      const s = await auth.sessions.principal(req);
      if (s && 'error' in s) {
        events?.onFailure(req, 'forbidden');
        return reply.code(403).send({
          error: {
            code: 'PRODMON_E_FORBIDDEN',
            message: 'cross-site request or missing CSRF token: refused',
          },
        });
      }
      p = s?.principal ?? null;
    }
    if (!p) {
      events?.onFailure(req, header ? 'invalid' : 'missing');
      reply.header('WWW-Authenticate', 'Bearer realm="prodmon"');
      return reply.code(401).send({
        error: {
          code: 'PRODMON_E_UNAUTHORIZED',
          message: auth.configured
            ? 'a valid bearer token is required (Authorization: Bearer <token>)'
            : 'no tokens are configured: add one under auth.tokens in prodmon.yaml',
        },
      });
    }
    if (!allows(p.role, role)) {
      events?.onFailure(req, 'forbidden');
      return reply.code(403).send({
        error: {
          code: 'PRODMON_E_FORBIDDEN',
          message: `token "${p.name}" has role "${p.role}"; this needs "${role}"`,
        },
      });
    }
    req.principal = p;
    events?.onSuccess?.(req, p);
  };
}
