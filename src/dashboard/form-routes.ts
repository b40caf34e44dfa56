/**
 * The admin forms of the dashboard: resolve an alert, create a silence, end one. Their fields are read
 * by the schemas of forms.ts; a bad field is a 400 page naming it, and nothing is done.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AlertActions } from '../alerting/actions.js';
import { silenceFromBody } from '../alerting/silences.js';
import { ProdmonError } from '../core/errors.js';
import { secure } from '../http/headers.js';
import { FORM_BODY_LIMIT } from '../http/limits.js';
import { parseForm, resolveForm, returnPath, silenceForm } from './forms.js';
import type { Caller } from './http.js';
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
    const back = returnPath(req.body, 'back', full, `${full}/`);
    try {
      const { reason } = parseForm(resolveForm, req.body);
      await actions.resolve({ id: String(req.params.id), reason, actor: c.name });
    } catch (err) {
      return failed(reply, c, err, back);
    }
    return done(reply, back, 'resolved');
  });

  scope.post(`${d}/silences`, form, async (req: Req, reply) => {
    const c = await requireAdminForm(req, reply);
    if (!c) return reply;
    const back = returnPath(req.body, 'back', full, `${full}/silences`);
    try {
      // the JSON API's silence body, checked as there (the duration's unit and bounds, the comment)
      await actions.silence(silenceFromBody(parseForm(silenceForm, req.body), c.name));
    } catch (err) {
      return failed(reply, c, err, back);
    }
    return done(reply, back, 'silenced');
  });

  scope.post(`${d}/silences/:id/expire`, form, async (req: Req, reply) => {
    const c = await requireAdminForm(req, reply);
    if (!c) return reply;
    const back = returnPath(req.body, 'back', full, `${full}/silences`);
    try {
      await actions.expireSilence(String(req.params.id), c.name);
    } catch (err) {
      return failed(reply, c, err, back);
    }
    return done(reply, back, 'expired');
  });
}
