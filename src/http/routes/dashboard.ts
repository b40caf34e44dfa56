/**
 * `GET /production/dashboard/` and its pages (alerts, one alert, silences), sign-in and sign-out,
 * the admin forms (resolve, silence), live fragments and the static assets. Pages need a session (or
 * a bearer token); without one, the browser is sent to the sign-in page.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../app.js';
import { ProdmonError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import { addFormParser, type Caller, callerOf, csrfOk, field, fields, pageCsrf, safeReturn, secure } from '../../dashboard/http.js';
import {
  alertPage,
  alertsPage,
  historyQuery,
  loginPage,
  messagePage,
  overviewPage,
  rangeKey,
  renderSections,
  silencesPage,
} from '../../dashboard/pages.js';
import type { Viewer } from '../../dashboard/views/layout.js';
import { LOGIN_COOKIE, parseCookies } from '../session.js';

type Req = FastifyRequest<{ Params: Record<string, string>; Querystring: Record<string, string> }>;

const viewerOf = (c: Caller): Viewer => ({ name: c.name, role: c.role, csrf: pageCsrf(c) });

/** Registers the dashboard pages, forms and assets. */
export async function dashboardRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const { dashboard: dash, sessions, auth } = ctx;
  if (!dash || !sessions) return; // a partial context (route tests of other modules)
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

  /** The caller, or a reply already sent (sign-in redirect or 401) when there is none. */
  const requireViewer = async (req: Req, reply: FastifyReply): Promise<Caller | null> => {
    const c = await callerOf(req, auth, sessions);
    if (c && c !== 'invalid') return c;
    if (c === 'invalid') {
      sendPage(reply, messagePage(dash, null, 'Not signed in', 'The bearer token is not valid.'), 401);
      return null;
    }
    // SameSite=Strict cookies are not sent on a navigation from another site: reload from here once.
    if (req.headers['sec-fetch-site'] === 'cross-site' && req.headers['sec-fetch-mode'] === 'navigate') {
      secure(reply).type('text/html; charset=utf-8').send('<!doctype html><meta http-equiv="refresh" content="0"><title>prodmon</title>');
      return null;
    }
    const next = safeReturn(`${full}${req.url.slice(req.url.indexOf(d) + d.length)}`, full, `${full}/`);
    secure(reply).redirect(`${full}/login?next=${encodeURIComponent(next)}`, 303);
    return null;
  };

  /** For a form post: the caller, with CSRF and role checked (or a reply already sent). */
  const requireAdminForm = async (req: Req, reply: FastifyReply): Promise<Caller | null> => {
    const c = await requireViewer(req, reply);
    if (!c) return null;
    if (!csrfOk(req, c, sessions)) {
      sendPage(reply, messagePage(dash, viewerOf(c), 'Request refused', 'This form was not sent from this dashboard (missing or wrong CSRF token, or another origin). Reload the page and try again.'), 403);
      return null;
    }
    if (c.role !== 'admin') {
      sendPage(reply, messagePage(dash, viewerOf(c), 'Not allowed', `${c.name} is read-only; resolving and silencing need the admin role.`, `${full}/`), 403);
      return null;
    }
    return c;
  };

  await app.register(async (scope) => {
    addFormParser(scope);

    scope.get(d, async (_req, reply) => secure(reply).redirect(`${full}/`, 301));

    scope.get(`${d}/`, async (req: Req, reply) => {
      const c = await requireViewer(req, reply);
      if (!c) return reply;
      return sendPage(reply, await overviewPage(dash, viewerOf(c), rangeKey(req.query.range), req.query.notice ?? ''));
    });

    scope.get(`${d}/alerts`, async (req: Req, reply) => {
      const c = await requireViewer(req, reply);
      if (!c) return reply;
      return sendPage(reply, await alertsPage(dash, viewerOf(c), historyQuery(req.query), req.query.notice ?? ''));
    });

    scope.get(`${d}/alerts/:id`, async (req: Req, reply) => {
      const c = await requireViewer(req, reply);
      if (!c) return reply;
      const body = await alertPage(dash, viewerOf(c), String(req.params.id), req.query.notice ?? '');
      return body
        ? sendPage(reply, body)
        : sendPage(reply, messagePage(dash, viewerOf(c), 'No such alert', 'No alert has this id; it may have been removed by retention.', `${full}/alerts`), 404);
    });

    scope.get(`${d}/silences`, async (req: Req, reply) => {
      const c = await requireViewer(req, reply);
      if (!c) return reply;
      return sendPage(reply, await silencesPage(dash, viewerOf(c), req.query.notice ?? ''));
    });

    scope.get(`${d}/fragments`, async (req: Req, reply) => {
      const c = await callerOf(req, auth, sessions);
      if (!c || c === 'invalid') return secure(reply).code(401).send({ error: { code: 'PRODMON_E_UNAUTHORIZED', message: 'sign in first' } });
      const names = String(req.query.sections ?? '').split(',').filter((n) => ['banner', 'checks', 'alerts', 'history'].includes(n));
      const back = req.query.view === 'alerts' ? `${full}/alerts` : `${full}/`;
      const sections = await renderSections(dash, viewerOf(c), names, { history: historyQuery(req.query), back });
      return secure(reply).send({ sections });
    });

    // ---- admin forms -----------------------------------------------------------------------

    const done = (reply: FastifyReply, back: string, notice: string) => {
      const sep = back.includes('?') ? '&' : '?';
      return secure(reply).redirect(`${back}${sep}notice=${notice}`, 303);
    };
    const failed = (reply: FastifyReply, c: Caller, err: unknown, back: string) => {
      if (!(err instanceof ProdmonError)) throw err;
      const code = { PRODMON_E_BAD_REQUEST: 400, PRODMON_E_NOT_FOUND: 404, PRODMON_E_CONFLICT: 409 }[err.code as string] ?? 500;
      return sendPage(reply, messagePage(dash, viewerOf(c), 'Not done', err.message, back), code);
    };

    scope.post(`${d}/alerts/:id/resolve`, async (req: Req, reply) => {
      const c = await requireAdminForm(req, reply);
      if (!c) return reply;
      const back = safeReturn(field(req.body, 'back'), full, `${full}/`);
      try {
        await dash.actions.resolve({ id: String(req.params.id), reason: field(req.body, 'reason').slice(0, 1000), actor: c.name });
      } catch (err) {
        return failed(reply, c, err, back);
      }
      dash.live.notify();
      return done(reply, back, 'resolved');
    });

    scope.post(`${d}/silences`, async (req: Req, reply) => {
      const c = await requireAdminForm(req, reply);
      if (!c) return reply;
      const back = safeReturn(field(req.body, 'back'), full, `${full}/silences`);
      const labels: Record<string, string> = {};
      const pairs = [...fields(req.body, 'label'), ...field(req.body, 'labels').split(',')];
      for (const pair of pairs) {
        const i = pair.indexOf('=');
        if (i > 0) labels[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
      }
      const durationMs = parseDuration(field(req.body, 'duration') || '4h');
      try {
        await dash.actions.silence({
          rule: field(req.body, 'rule').trim() || undefined,
          type: field(req.body, 'type') || undefined,
          labels: Object.keys(labels).length ? labels : undefined,
          durationMs: durationMs && durationMs <= 90 * 86_400_000 ? durationMs : undefined,
          comment: field(req.body, 'comment').slice(0, 500),
          createdBy: c.name,
        });
      } catch (err) {
        return failed(reply, c, err, back);
      }
      dash.live.notify();
      return done(reply, back, 'silenced');
    });

    scope.post(`${d}/silences/:id/expire`, async (req: Req, reply) => {
      const c = await requireAdminForm(req, reply);
      if (!c) return reply;
      const back = safeReturn(field(req.body, 'back'), full, `${full}/silences`);
      try {
        await dash.actions.expireSilence(String(req.params.id), c.name);
      } catch (err) {
        return failed(reply, c, err, back);
      }
      dash.live.notify();
      return done(reply, back, 'expired');
    });

    // ---- sign-in and sign-out ---------------------------------------------------------------

    const loginToken = (req: FastifyRequest, reply: FastifyReply): string => {
      const existing = parseCookies(req.headers.cookie)[LOGIN_COOKIE];
      if (existing && /^[\w-]{20,64}$/.test(existing)) return existing;
      const fresh = randomBytes(24).toString('base64url');
      reply.header('set-cookie', sessions.loginCookie(req, fresh));
      return fresh;
    };
    const showLogin = (req: FastifyRequest, reply: FastifyReply, v: { next: string; error?: string; name?: string }, code = 200) =>
      sendPage(
        reply,
        loginPage(dash, {
          ...v,
          csrf: loginToken(req, reply),
          users: ctx.config.auth.users.length > 0,
          tokens: ctx.config.auth.tokens.length > 0,
        }),
        code,
      );

    scope.get(`${d}/login`, async (req: Req, reply) => {
      const next = safeReturn(String(req.query.next ?? ''), full, `${full}/`);
      if (await sessions.fromRequest(req)) return secure(reply).redirect(next, 303);
      return showLogin(req, reply, { next });
    });

    scope.post(`${d}/login`, async (req: Req, reply) => {
      const next = safeReturn(field(req.body, 'next'), full, `${full}/`);
      const cookie = parseCookies(req.headers.cookie)[LOGIN_COOKIE];
      if (!sessions.sameOrigin(req) || !cookie || field(req.body, '_csrf') !== cookie) {
        return showLogin(req, reply, { next, error: 'The sign-in form expired or came from another site. Try again.' }, 403);
      }
      const token = field(req.body, 'token');
      const name = field(req.body, 'name').slice(0, 200);
      const result = await sessions.login(
        token ? { token, ip: req.ip } : { name, password: field(req.body, 'password').slice(0, 1024), ip: req.ip },
      );
      if (!result.ok) {
        if (result.reason === 'limited') {
          const minutes = Math.max(1, Math.ceil(result.retryAfterMs / 60_000));
          reply.header('retry-after', String(Math.ceil(result.retryAfterMs / 1000)));
          return showLogin(req, reply, { next, name, error: `Too many failed sign-ins. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.` }, 429);
        }
        return showLogin(req, reply, { next, name, error: token ? 'That token is not valid.' : 'Wrong user name or password.' }, 401);
      }
      reply.header('set-cookie', [sessions.sessionCookie(req, result.cookie), sessions.loginCookie(req, null)]);
      return secure(reply).redirect(next, 303);
    });

    scope.post(`${d}/logout`, async (req: Req, reply) => {
      const s = await sessions.fromRequest(req);
      if (s && !sessions.checkCsrf(req, s)) {
        return sendPage(reply, messagePage(dash, viewerOf({ ...s, session: s }), 'Request refused', 'Sign-out must come from this dashboard.', `${full}/`), 403);
      }
      if (s) await sessions.revoke(s);
      reply.header('set-cookie', sessions.sessionCookie(req, null));
      return secure(reply).redirect(`${full}/login`, 303);
    });

    // ---- static assets -----------------------------------------------------------------------

    const serveAsset = async (req: Req, reply: FastifyReply) => {
      const a = dash.assets.get(String(req.params.name ?? ''));
      if (!a) return secure(reply).code(404).send({ error: { code: 'PRODMON_E_NOT_FOUND', message: 'no such asset' } });
      const etag = `"${a.hash}"`;
      const versioned = req.query.v === a.hash;
      secure(reply, versioned ? 'public, max-age=31536000, immutable' : 'no-cache').header('etag', etag).type(a.type);
      reply.header('vary', 'accept-encoding');
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
        return reply.header('content-encoding', 'gzip').send(a.gzip);
      }
      return reply.send(a.body);
    };
    scope.get(`${d}/assets/:name`, serveAsset);
    // Anything deeper (`assets/../x`, `assets/a/b`) names no asset.
    scope.get(`${d}/assets/*`, async (_req, reply) =>
      secure(reply).code(404).send({ error: { code: 'PRODMON_E_NOT_FOUND', message: 'no such asset' } }),
    );

    scope.addHook('preClose', async () => {
      await dash.close();
    });
  });
}
