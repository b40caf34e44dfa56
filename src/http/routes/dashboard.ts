/**
 * `GET /production/dashboard/` and its pages (alerts, one alert, silences), sign-in and sign-out,
 * the admin forms (resolve, silence), live fragments and the static assets. Pages need a session (or
 * a bearer token); without one, the browser is sent to the sign-in page.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AlertActions } from '../../alerting/actions.js';
import { formRoutes } from '../../dashboard/form-routes.js';
import { addFormParser, callerOf } from '../../dashboard/http.js';
import type { Dashboard } from '../../dashboard/index.js';
import { pageKit, type Req, viewerOf } from '../../dashboard/page-kit.js';
import {
  alertPage,
  alertsPage,
  deploymentsPage,
  historyQuery,
  messagePage,
  overviewPage,
  rangeKey,
  renderSections,
  silencesPage,
} from '../../dashboard/pages.js';
import { type SignInWays, signInRoutes } from '../../dashboard/signin-routes.js';
import type { TokenAuth } from '../auth.js';
import { secure } from '../headers.js';
import type { SessionManager } from '../session.js';

/** What the dashboard pages use. */
export interface DashboardRouteDeps {
  auth: TokenAuth;
  sessions: SessionManager;
  dashboard: Dashboard;
  /** The admin forms: resolve, silence, expire. */
  actions: AlertActions;
  /** Which ways of signing in the sign-in page offers. */
  signIn: SignInWays;
}

/** Registers the dashboard pages, forms and assets. */
export async function dashboardRoutes(app: FastifyInstance, deps: DashboardRouteDeps): Promise<void> {
  const { dashboard: dash, sessions, auth } = deps;
  const kit = pageKit(dash, auth, sessions);
  const { d, full, sendPage, requireViewer } = kit;

  await app.register(async (scope) => {
    addFormParser(scope);

    scope.get(d, async (_req, reply) => secure(reply).redirect(`${full}/`, 301));

    scope.get(`${d}/`, async (req: Req, reply) => {
      const c = await requireViewer(req, reply);
      if (!c) return reply;
      return sendPage(
        reply,
        await overviewPage(dash, viewerOf(c), rangeKey(req.query.range), req.query.notice ?? ''),
      );
    });

    scope.get(`${d}/alerts`, async (req: Req, reply) => {
      const c = await requireViewer(req, reply);
      if (!c) return reply;
      return sendPage(
        reply,
        await alertsPage(dash, viewerOf(c), historyQuery(req.query), req.query.notice ?? ''),
      );
    });

    scope.get(`${d}/alerts/:id`, async (req: Req, reply) => {
      const c = await requireViewer(req, reply);
      if (!c) return reply;
      const body = await alertPage(dash, viewerOf(c), String(req.params.id), req.query.notice ?? '');
      return body
        ? sendPage(reply, body)
        : sendPage(
            reply,
            messagePage(
              dash,
              viewerOf(c),
              'No such alert',
              'No alert has this id; it may have been removed by retention.',
              `${full}/alerts`,
            ),
            404,
          );
    });

    scope.get(`${d}/silences`, async (req: Req, reply) => {
      const c = await requireViewer(req, reply);
      if (!c) return reply;
      return sendPage(reply, await silencesPage(dash, viewerOf(c), req.query.notice ?? ''));
    });

    scope.get(`${d}/deployments`, async (req: Req, reply) => {
      const c = await requireViewer(req, reply);
      if (!c) return reply;
      return sendPage(reply, await deploymentsPage(dash, viewerOf(c)));
    });

    scope.get(`${d}/fragments`, async (req: Req, reply) => {
      const c = await callerOf(req, auth, sessions);
      if (!c || c === 'invalid')
        return secure(reply)
          .code(401)
          .send({ error: { code: 'PRODMON_E_UNAUTHORIZED', message: 'sign in first' } });
      const names = String(req.query.sections ?? '')
        .split(',')
        .filter((n) => ['banner', 'checks', 'alerts', 'history', 'deployments'].includes(n));
      const back = req.query.view === 'alerts' ? `${full}/alerts` : `${full}/`;
      const sections = await renderSections(dash, viewerOf(c), names, {
        history: historyQuery(req.query),
        back,
      });
      return secure(reply).send({ sections });
    });

    formRoutes(scope, kit, deps.actions);
    signInRoutes(scope, kit, deps.signIn);

    // ---- static assets -----------------------------------------------------------------------

    const serveAsset = async (req: Req, reply: FastifyReply) => {
      const a = dash.assets.get(String(req.params.name ?? ''));
      if (!a)
        return secure(reply)
          .code(404)
          .send({ error: { code: 'PRODMON_E_NOT_FOUND', message: 'no such asset' } });
      const etag = `"${a.hash}"`;
      const versioned = req.query.v === a.hash;
      secure(reply, versioned ? 'public, max-age=31536000, immutable' : 'no-cache')
        .header('etag', etag)
        .type(a.type);
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
      secure(reply)
        .code(404)
        .send({ error: { code: 'PRODMON_E_NOT_FOUND', message: 'no such asset' } }),
    );

    scope.addHook('preClose', async () => {
      await dash.close();
    });
  });
}
