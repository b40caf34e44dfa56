/**
 * Sign-in (password or API token, double-submit token, rate limit) and sign-out of the dashboard. The
 * sign-in form is read by its schema (forms.ts): a bad field is a 400 sign-in page naming it, and no
 * credential is tried.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ProdmonError } from '../core/errors.js';
import { closeUnread } from '../http/auth.js';
import { secure } from '../http/headers.js';
import { FORM_BODY_LIMIT, SIGN_IN_BODY_LIMIT } from '../http/limits.js';
import { LOGIN_COOKIE, parseCookies } from '../http/session.js';
import { parseForm, returnPath, signInForm } from './forms.js';
import { type PageKit, type Req, viewerOf } from './page-kit.js';
import { loginPage, messagePage } from './pages.js';

/** Which ways of signing in are configured. */
export interface SignInWays {
  /** Users with passwords (`auth.users`). */
  users: boolean;
  /** API tokens (`auth.tokens`). */
  tokens: boolean;
}

/** Registers `login` (GET, POST) and `logout` (POST) on the dashboard's scope. */
export function signInRoutes(scope: FastifyInstance, kit: PageKit, ways: SignInWays): void {
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
        users: ways.users,
        tokens: ways.tokens,
      }),
      code,
    );

  scope.get(`${d}/login`, async (req: Req, reply) => {
    const next = returnPath(req.query, 'next', full, `${full}/`);
    if (await sessions.fromRequest(req)) return secure(reply).redirect(next, 303);
    dash.data.warm(dash.onError); // while the user signs in, prepare the long periods
    return showLogin(req, reply, { next });
  });

  const expired = (req: FastifyRequest, reply: FastifyReply, next: string) =>
    showLogin(
      req,
      reply,
      { next, error: 'The sign-in form expired or came from another site. Try again.' },
      403,
    );
  // The form's own cookie and the origin are checked from the headers before the form is read.
  const signInGate = async (req: FastifyRequest, reply: FastifyReply) => {
    if (sessions.sameOrigin(req) && parseCookies(req.headers.cookie)[LOGIN_COOKIE]) return;
    return expired(req, closeUnread(reply), `${full}/`);
  };

  scope.post(
    `${d}/login`,
    { onRequest: signInGate, bodyLimit: SIGN_IN_BODY_LIMIT },
    async (req: Req, reply) => {
      const next = returnPath(req.body, 'next', full, `${full}/`);
      let form: ReturnType<typeof signInForm.parse>;
      try {
        form = parseForm(signInForm, req.body);
      } catch (err) {
        if (!(err instanceof ProdmonError)) throw err;
        return showLogin(req, reply, { next, error: `Not signed in: ${err.message}.` }, 400);
      }
      const cookie = parseCookies(req.headers.cookie)[LOGIN_COOKIE];
      if (!cookie || form._csrf !== cookie) return expired(req, reply, next);
      const { token, name, password } = form;
      const result = await sessions.login(token ? { token, ip: req.ip } : { name, password, ip: req.ip });
      if (!result.ok) {
        kit.auth.events?.signInFailed?.(req, {
          user: token ? undefined : name,
          via: token ? 'token' : 'password',
          limited: result.reason === 'limited',
        });
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
      reply.header('set-cookie', [
        sessions.sessionCookie(req, result.cookie),
        sessions.loginCookie(req, null),
      ]);
      return secure(reply).redirect(next, 303);
    },
  );

  const signedOut = (req: FastifyRequest, reply: FastifyReply) => {
    reply.header('set-cookie', sessions.sessionCookie(req, null));
    return secure(reply).redirect(`${full}/login`, 303);
  };
  // Without a session there is nothing to end: answered before the form is read.
  const logoutGate = async (req: FastifyRequest, reply: FastifyReply) => {
    if (await sessions.fromRequest(req)) return;
    return signedOut(req, closeUnread(reply));
  };

  scope.post(
    `${d}/logout`,
    { onRequest: logoutGate, bodyLimit: FORM_BODY_LIMIT },
    async (req: Req, reply) => {
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
      return signedOut(req, reply);
    },
  );
}
