/**
 * What every dashboard route needs: sending a page (gzipped, with the security headers), finding the
 * caller or sending them to sign in, and checking a form post (CSRF, origin, admin role).
 */
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { closeUnread, type TokenAuth } from '../http/auth.js';
import { secure } from '../http/headers.js';
import type { SessionManager } from '../http/session.js';
import { type Caller, callerOf, csrfOk, pageCsrf, safeReturn } from './http.js';
import type { Dashboard } from './index.js';
import { messagePage } from './pages.js';
import type { Viewer } from './views/layout.js';

/** A request of the dashboard routes. */
export type Req = FastifyRequest<{ Params: Record<string, string>; Querystring: Record<string, string> }>;

/** Who is looking, as the views need it (with a CSRF token masked for this page). */
export const viewerOf = (c: Caller): Viewer => ({ name: c.name, role: c.role, csrf: pageCsrf(c) });

/** The route helpers of one dashboard. */
export interface PageKit {
  dash: Dashboard;
  auth: TokenAuth;
  sessions: SessionManager;
  /** Route path of the dashboard (without the prefix) and its full path (with it). */
  d: string;
  full: string;
  sendPage(reply: FastifyReply, body: { value: string }, code?: number): FastifyReply;
  /** The caller, or null when a reply (sign-in redirect, 401) has been sent. */
  requireViewer(req: Req, reply: FastifyReply): Promise<Caller | null>;
  /** For a form post: the caller with CSRF, origin and admin role checked, or null when refused. */
  requireAdminForm(req: Req, reply: FastifyReply): Promise<Caller | null>;
  /**
   * `onRequest` of a form post: the caller must be known from the headers (a bearer token, or a session
   * from this site) before the body is read; otherwise answered as `requireViewer` does, body unread.
   */
  formGate(req: Req, reply: FastifyReply): Promise<FastifyReply | undefined>;
}

/** The helpers for one dashboard. */
export function pageKit(dash: Dashboard, auth: TokenAuth, sessions: SessionManager): PageKit {
  const d = '/production/dashboard';
  const full = dash.paths.dashboard;
  // Pages are gzipped when the browser accepts it (their CSRF tokens are masked per response).
  const sendPage = (reply: FastifyReply, body: { value: string }, code = 200) => {
    secure(reply).code(code).type('text/html; charset=utf-8').header('vary', 'accept-encoding');
    if (/\bgzip\b/.test(String(reply.request.headers['accept-encoding'] ?? '')) && body.value.length > 1024) {
      return reply.header('content-encoding', 'gzip').send(gzipSync(body.value, { level: 6 }));
    }
    return reply.send(body.value);
  };

  /** Callers already found by `formGate`, so the handler does not look again. */
  const known = new WeakMap<FastifyRequest, Caller>();

  /** The caller, or a reply already sent (sign-in redirect or 401) when there is none. */
  const requireViewer = async (req: Req, reply: FastifyReply): Promise<Caller | null> => {
    const c = known.get(req) ?? (await callerOf(req, auth, sessions));
    if (c && c !== 'invalid') return c;
    closeUnread(reply);
    if (c === 'invalid') {
      sendPage(reply, messagePage(dash, null, 'Not signed in', 'The bearer token is not valid.'), 401);
      return null;
    }
    // SameSite=Strict cookies are not sent on a navigation from another site: reload from here once.
    if (req.headers['sec-fetch-site'] === 'cross-site' && req.headers['sec-fetch-mode'] === 'navigate') {
      secure(reply)
        .type('text/html; charset=utf-8')
        .send('<!doctype html><meta http-equiv="refresh" content="0"><title>prodmon</title>');
      return null;
    }
    const next = safeReturn(`${full}${req.url.slice(req.url.indexOf(d) + d.length)}`, full, `${full}/`);
    secure(reply).redirect(`${full}/login?next=${encodeURIComponent(next)}`, 303);
    return null;
  };

  const refused = (reply: FastifyReply, c: Caller) =>
    sendPage(
      closeUnread(reply),
      messagePage(
        dash,
        viewerOf(c),
        'Request refused',
        'This form was not sent from this dashboard (missing or wrong CSRF token, or another origin). Reload the page and try again.',
      ),
      403,
    );

  const formGate = async (req: Req, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const c = await requireViewer(req, reply);
    if (!c) return reply;
    if (c.session && !sessions.sameOrigin(req)) return refused(reply, c);
    known.set(req, c);
  };

  /** For a form post: the caller, with CSRF and role checked (or a reply already sent). */
  const requireAdminForm = async (req: Req, reply: FastifyReply): Promise<Caller | null> => {
    const c = await requireViewer(req, reply);
    if (!c) return null;
    if (!csrfOk(req, c, sessions)) {
      refused(reply, c);
      return null;
    }
    if (c.role !== 'admin') {
      sendPage(
        reply,
        messagePage(
          dash,
          viewerOf(c),
          'Not allowed',
          `${c.name} is read-only; resolving and silencing need the admin role.`,
          `${full}/`,
        ),
        403,
      );
      return null;
    }
    return c;
  };
  return { dash, auth, sessions, d, full, sendPage, requireViewer, requireAdminForm, formGate };
}
