/** Sign-in (password or API token, double-submit token, rate limit) and sign-out of the dashboard. */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ResolvedConfig } from '../config/load.js';
import { LOGIN_COOKIE, parseCookies } from '../http/session.js';
import { field, safeReturn, secure } from './http.js';
import { type PageKit, type Req, viewerOf } from './page-kit.js';
import { loginPage, messagePage } from './pages.js';

/** Registers `login` (GET, POST) and `logout` (POST) on the dashboard's scope. */
export function signInRoutes(scope: FastifyInstance, kit: PageKit, config: ResolvedConfig): void {
  const { dash, sessions, d, full, sendPage } = kit;
  const loginToken = (req: FastifyRequest, reply: FastifyReply): string => {
    const existing = parseCookies(req.headers.cookie)[LOGIN_COOKIE];
    if (existing && /^[\w-]{20,64}$/.test(existing)) return existing;
    const fresh = randomBytes(24).toString('base64url');
    reply.header('set-cookie', sessions.loginCookie(req, fresh));
    return fresh;
  };
  const showLogin = (
    req: FastifyRequest,
    reply: FastifyReply,
    v: { next: string; error?: string; name?: string },
    code = 200,
  ) =>
    sendPage(
      reply,
      loginPage(dash, {
        ...v,
        csrf: loginToken(req, reply),
        users: config.auth.users.length > 0,
        tokens: config.auth.tokens.length > 0,
      }),
      code,
    );

  scope.get(`${d}/login`, async (req: Req, reply) => {
    const next = safeReturn(String(req.query.next ?? ''), full, `${full}/`);
    if (await sessions.fromRequest(req)) return secure(reply).redirect(next, 303);
    dash.data.warm(dash.onError); // while the user signs in, prepare the long periods
    return showLogin(req, reply, { next });
  });

  scope.post(`${d}/login`, async (req: Req, reply) => {
    const next = safeReturn(field(req.body, 'next'), full, `${full}/`);
    const cookie = parseCookies(req.headers.cookie)[LOGIN_COOKIE];
    if (!sessions.sameOrigin(req) || !cookie || field(req.body, '_csrf') !== cookie) {
      return showLogin(
        req,
        reply,
        { next, error: 'The sign-in form expired or came from another site. Try again.' },
        403,
      );
    }
    const token = field(req.body, 'token');
    const name = field(req.body, 'name').slice(0, 200);
    const result = await sessions.login(
      token
        ? { token, ip: req.ip }
        : { name, password: field(req.body, 'password').slice(0, 1024), ip: req.ip },
    );
    if (!result.ok) {
      if (result.reason === 'limited') {
        const minutes = Math.max(1, Math.ceil(result.retryAfterMs / 60_000));
        reply.header('retry-after', String(Math.ceil(result.retryAfterMs / 1000)));
        return showLogin(
          req,
          reply,
          {
            next,
            name,
            error: `Too many failed sign-ins. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
          },
          429,
        );
      }
      return showLogin(
        req,
        reply,
        { next, name, error: token ? 'That token is not valid.' : 'Wrong user name or password.' },
        401,
      );
    }
    reply.header('set-cookie', [sessions.sessionCookie(req, result.cookie), sessions.loginCookie(req, null)]);
    return secure(reply).redirect(next, 303);
  });

  scope.post(`${d}/logout`, async (req: Req, reply) => {
    const s = await sessions.fromRequest(req);
    if (s && !sessions.checkCsrf(req, s)) {
      return sendPage(
        reply,
        messagePage(
          dash,
          viewerOf({ ...s, session: s }),
          'Request refused',
          'Sign-out must come from this dashboard.',
          `${full}/`,
        ),
        403,
      );
    }
    if (s) await sessions.revoke(s);
    reply.header('set-cookie', sessions.sessionCookie(req, null));
    return secure(reply).redirect(`${full}/login`, 303);
  });
}
