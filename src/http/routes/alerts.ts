/**
 * Alerts and silences over HTTP: `GET /production/alerts/` (active + history, filters, pagination),
 * `GET /production/alerts/:id` (one alert with its history), `POST /production/alerts/resolve/`
 * (manual resolution, audited), and `/production/alerts/silences/` (list, create, expire). Reading
 * needs a token with role `read`, changing needs `admin`.
 */

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { inhibitorOf } from '../../alerting/inhibit.js';
import { MaintenanceCalendar } from '../../alerting/maintenance.js';
import { Muting } from '../../alerting/mutes.js';
import { publicAlert } from '../../alerting/plan.js';
import { alertQuery, intParam } from '../../alerting/query.js';
import { logResolution, resolveAlert } from '../../alerting/resolve.js';
import { createSilence, expireSilence, silenceFromBody, silenceView } from '../../alerting/silences.js';
import type { AppContext } from '../../app.js';
import { ProdmonError } from '../../core/errors.js';
import type { AlertFilter, StoredAlert } from '../../domain/alert.js';
import { SEVERITIES } from '../../domain/alert.js';
import { requireRole } from '../auth.js';
import { JSON_BODY_LIMIT } from '../limits.js';

type Query = Record<string, string | undefined>;
type Req = FastifyRequest<{ Params: { id: string }; Querystring: Query }>;

const bad = (message: string) => new ProdmonError('PRODMON_E_BAD_REQUEST', message);

function body(req: FastifyRequest, expected: string): Record<string, unknown> {
  const b = req.body;
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw bad(`expected a JSON object: ${expected}`);
  return b as Record<string, unknown>;
}

const RESOLVE_SHAPE = '{"id": "<alert id>", "reason": "<why>"}';
const SILENCE_SHAPE = '{"rule": "...", "labels": {...}, "type": "...", "duration": "30m", "comment": "..."}';

/** Clear 400s for bodies that are not JSON (route-level error handler). */
function jsonErrors(shape: string) {
  return (err: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ProdmonError) throw err;
    if (
      err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
      err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
      err instanceof SyntaxError
    ) {
      return reply.code(400).send({
        error: { code: 'PRODMON_E_BAD_REQUEST', message: `malformed JSON body; expected ${shape}` },
      });
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.code(415).send({
        error: {
          code: 'PRODMON_E_BAD_REQUEST',
          message: `send JSON with "content-type: application/json": ${shape}`,
        },
      });
    }
    throw err;
  };
}

function stringField(b: Record<string, unknown>, key: string, shape: string): string {
  const v = b[key];
  if (v === undefined || v === null || (typeof v === 'string' && !v.trim()))
    throw bad(`"${key}" is required: ${shape}`);
  if (typeof v !== 'string') throw bad(`"${key}" must be a string: ${shape}`);
  return v.trim();
}

/** Registers the alert and silence routes. */
export function alertRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { store, clock } = ctx;
  const read = requireRole(ctx.auth, 'read');
  const admin = { ...requireRole(ctx.auth, 'admin'), bodyLimit: JSON_BODY_LIMIT };
  const muting = new Muting(
    store,
    ctx.alerting?.calendar ?? new MaintenanceCalendar(ctx.config.alerting.maintenance),
    0,
  );
  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

  /** Open alerts, with the engine's fresher values where it has them, and what mutes each. */
  async function active(f: AlertFilter, now: number) {
    const fresh = new Map((ctx.alerting?.openAlerts() ?? []).map((a) => [a.id, a]));
    const mutes = await muting.at(now, true);
    return (await store.alerts.listOpen())
      .filter(
        (a) =>
          (!f.severity || f.severity.includes(a.severity)) &&
          (!f.type || f.type.includes(a.type)) &&
          (!f.rule || f.rule === a.rule),
      )
      .map((a: StoredAlert) => ({
        ...publicAlert(fresh.get(a.id) ?? a),
        mutedBy: muting.mutedBy(a, mutes, now),
        inhibitedBy: inhibitorOf(a.metadata),
      }))
      .sort(
        (x, y) =>
          SEVERITIES.indexOf(y.severity) - SEVERITIES.indexOf(x.severity) || x.createdAt - y.createdAt,
      );
  }

  app.get('/production/alerts/', read, async (req: Req, reply) => {
    const now = clock.now();
    const f = alertQuery(req.query, now);
    const page = await store.alerts.list(f);
    const offset = f.offset ?? 0;
    const next = offset + page.items.length < page.total ? offset + page.items.length : null;
    return noStore(reply).send({
      active: await active(f, now),
      alerts: page.items.map(publicAlert),
      total: page.total,
      limit: f.limit,
      offset,
      next_offset: next,
    });
  });

  app.get('/production/alerts/silences/', read, async (req: Req, reply) => {
    const now = clock.now();
    const all = req.query.state === 'all';
    const silences = (await store.silences.list(intParam(req.query.limit, 'limit', 1, 1000, 200)))
      .map((s) => silenceView(s, now))
      .filter((s) => all || s.state !== 'expired');
    return noStore(reply).send({ silences, maintenance: muting.calendar.status(now) });
  });

  app.get('/production/alerts/:id', read, async (req: Req, reply) => {
    const a = await store.alerts.get(req.params.id);
    if (!a) throw new ProdmonError('PRODMON_E_NOT_FOUND', `no alert with id "${req.params.id}"`);
    return noStore(reply).send({ alert: publicAlert(a), events: await store.alerts.events(a.id) });
  });

  app.post(
    '/production/alerts/resolve/',
    { ...admin, errorHandler: jsonErrors(RESOLVE_SHAPE) },
    async (req, reply) => {
      const b = body(req, RESOLVE_SHAPE);
      const id = stringField(b, 'id', RESOLVE_SHAPE);
      const reason = stringField(b, 'reason', RESOLVE_SHAPE);
      const actor = req.principal!.name;
      let resolved: StoredAlert;
      if (ctx.alerting) resolved = await ctx.alerting.resolve({ id, reason, actor });
      else {
        resolved = await store.transaction((tx) => resolveAlert(tx, { id, reason, actor, now: clock.now() }));
        logResolution(ctx.logger, resolved);
      }
      return noStore(reply).send({ alert: publicAlert(resolved) });
    },
  );

  app.post(
    '/production/alerts/silences/',
    { ...admin, errorHandler: jsonErrors(SILENCE_SHAPE) },
    async (req, reply) => {
      const r = silenceFromBody(body(req, SILENCE_SHAPE), req.principal!.name);
      const now = clock.now();
      const s = await store.transaction((tx) => createSilence(tx, r, now));
      ctx.logger.security?.info(
        {
          event: 'silence.create',
          silence: s.id,
          actor: s.createdBy,
          matchers: s.matchers,
          comment: s.comment,
        },
        'silence created',
      );
      return noStore(reply)
        .code(201)
        .send({ silence: silenceView(s, now) });
    },
  );

  const expire = async (req: FastifyRequest, reply: FastifyReply) => {
    const now = clock.now();
    const id = (req.params as { id: string }).id;
    const s = await store.transaction((tx) => expireSilence(tx, id, req.principal!.name, now));
    ctx.logger.security?.info(
      { event: 'silence.expire', silence: s.id, actor: req.principal!.name },
      'silence expired',
    );
    return noStore(reply).send({ silence: silenceView(s, now) });
  };
  app.delete('/production/alerts/silences/:id', admin, expire);
  app.post('/production/alerts/silences/:id/expire', admin, expire);
}
