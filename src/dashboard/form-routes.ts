/** The admin forms of the dashboard: resolve an alert, create a silence, end one. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AlertActions } from '../alerting/actions.js';
import { configDuration } from '../core/duration.js';
import { ProdmonError } from '../core/errors.js';
import { FORM_BODY_LIMIT } from '../http/limits.js';
import { type Caller, field, fields, safeReturn, secure } from './http.js';
import { type PageKit, type Req, viewerOf } from './page-kit.js';
import { messagePage } from './pages.js';

/** Registers the form posts on the dashboard's scope; each is one call of the alert actions. */
export function formRoutes(scope: FastifyInstance, kit: PageKit, actions: AlertActions): void {
  const { dash, d, full, sendPage, requireAdminForm } = kit;
  // The caller is checked from the headers before the form is read.
  const form = { onRequest: kit.formGate, bodyLimit: FORM_BODY_LIMIT };
  const done = (reply: FastifyReply, back: string, notice: string) => {
    const sep = back.includes('?') ? '&' : '?';
    return secure(reply).redirect(`${back}${sep}notice=${notice}`, 303);
  };
  const failed = (reply: FastifyReply, c: Caller, err: unknown, back: string) => {
    if (!(err instanceof ProdmonError)) throw err;
    const code =
      { PRODMON_E_BAD_REQUEST: 400, PRODMON_E_NOT_FOUND: 404, PRODMON_E_CONFLICT: 409 }[err.code as string] ??
      500;
    return sendPage(reply, messagePage(dash, viewerOf(c), 'Not done', err.message, back), code);
  };

  scope.post(`${d}/alerts/:id/resolve`, form, async (req: Req, reply) => {
    const c = await requireAdminForm(req, reply);
    if (!c) return reply;
    const back = safeReturn(field(req.body, 'back'), full, `${full}/`);
    try {
      await actions.resolve({
        id: String(req.params.id),
        reason: field(req.body, 'reason').slice(0, 1000),
        actor: c.name,
      });
    } catch (err) {
      return failed(reply, c, err, back);
    }
    return done(reply, back, 'resolved');
  });

  scope.post(`${d}/silences`, form, async (req: Req, reply) => {
    const c = await requireAdminForm(req, reply);
    if (!c) return reply;
    const back = safeReturn(field(req.body, 'back'), full, `${full}/silences`);
    const labels: Record<string, string> = {};
    const pairs = [...fields(req.body, 'label'), ...field(req.body, 'labels').split(',')];
    for (const pair of pairs) {
      const i = pair.indexOf('=');
      if (i > 0) labels[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
    }
    // Typed by hand: a unit is required, as in the config, the API and the CLI (`30` is not 30 ms).
    const duration = configDuration(field(req.body, 'duration').trim() || '4h');
    try {
      if (!duration.ok) throw new ProdmonError('PRODMON_E_BAD_REQUEST', `duration: ${duration.problem}`);
      await actions.silence({
        rule: field(req.body, 'rule').trim() || undefined,
        type: field(req.body, 'type') || undefined,
        labels: Object.keys(labels).length ? labels : undefined,
        durationMs: duration.value, // bounded (90d) by buildSilence, which names it
        comment: field(req.body, 'comment').slice(0, 500),
        createdBy: c.name,
      });
    } catch (err) {
      return failed(reply, c, err, back);
    }
    return done(reply, back, 'silenced');
  });

  scope.post(`${d}/silences/:id/expire`, form, async (req: Req, reply) => {
    const c = await requireAdminForm(req, reply);
    if (!c) return reply;
    const back = safeReturn(field(req.body, 'back'), full, `${full}/silences`);
    try {
      await actions.expireSilence(String(req.params.id), c.name);
    } catch (err) {
      return failed(reply, c, err, back);
    }
    return done(reply, back, 'expired');
  });
}
