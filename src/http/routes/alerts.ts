/**
 * Alerts and silences over HTTP: `GET /production/alerts/` (active + history, filters, pagination),
 * `GET /production/alerts/:id` (one alert with its history), `POST /production/alerts/resolve/`
 * (manual resolution, audited), and `/production/alerts/silences/` (list, create, expire). Reading
 * needs a token with role `read`, changing needs `admin`.
 */

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AlertActions } from '../../alerting/actions.js';
import { inhibitorOf } from '../../alerting/inhibit.js';
import type { MaintenanceCalendar } from '../../alerting/maintenance.js';
import { Muting } from '../../alerting/mutes.js';
import { publicAlert } from '../../alerting/plan.js';
import { alertQuery, intText, parseParams } from '../../alerting/query.js';
import { silenceFromBody, silenceView } from '../../alerting/silences.js';
import type { Clock } from '../../core/clock.js';
import { ProdmonError } from '../../core/errors.js';
import { type Alert, type AlertFilter, SEVERITIES, type StoredAlert } from '../../domain/alert.js';
import type { Store } from '../../store/index.js';
import { requireRole, type TokenAuth } from '../auth.js';
import { JSON_BODY_LIMIT } from '../limits.js';

/** What the alert routes use. */
export interface AlertRouteDeps {
  store: Store;
  clock: Clock;
  auth: TokenAuth;
  /** Resolve, silence, expire. */
  actions: AlertActions;
  /** The maintenance windows (shown with the silences; they mute alerts too). */
  calendar: MaintenanceCalendar;
  /** Open alerts as the running engine sees them (fresher values than the stored rows). */
  openAlerts(): readonly Alert[];
}

type Req = FastifyRequest<{ Params: { id: string }; Querystring: Record<string, string | undefined> }>;

const RESOLVE_SHAPE = '{"id": "<alert id>", "reason": "<why>"}';
const SILENCE_SHAPE = '{"rule": "...", "labels": {...}, "type": "...", "duration": "30m", "comment": "..."}';

/** A required non-blank string field of a JSON body (trimmed). */
const requiredText = (key: string, shape: string) =>
  z
    .string({
      error: (iss) =>
        iss.input === undefined || iss.input === null
          ? `"${key}" is required: ${shape}`
          : `"${key}" must be a string: ${shape}`,
    })
    .trim()
    .min(1, { error: `"${key}" is required: ${shape}` });

const resolveBody = z.object(
  { id: requiredText('id', RESOLVE_SHAPE), reason: requiredText('reason', RESOLVE_SHAPE) },
  { error: `expected a JSON object: ${RESOLVE_SHAPE}` },
);

const silenceBody = z.record(z.string(), z.unknown(), { error: `expected a JSON object: ${SILENCE_SHAPE}` });

const silencesQuery = z.object({ limit: intText('limit', 1, 1000, 200) });

/** Clear 400s for bodies that are not JSON (route-level error handler). */
export function jsonErrors(shape: string) {
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

/** Registers the alert and silence routes. */
export function alertRoutes(app: FastifyInstance, deps: AlertRouteDeps): void {
  const { store, clock, actions } = deps;
  const read = requireRole(deps.auth, 'read');
  const admin = { ...requireRole(deps.auth, 'admin'), bodyLimit: JSON_BODY_LIMIT };
  const muting = new Muting(store, deps.calendar, 0);
  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

  /** Open alerts, with the engine's fresher values where it has them, and what mutes each. */
  async function active(f: AlertFilter, now: number) {
    const fresh = new Map(deps.openAlerts().map((a) => [a.id, a]));
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
    const { limit } = parseParams(silencesQuery, req.query);
    const silences = (await store.silences.list(limit))
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
      const { id, reason } = parseParams(resolveBody, req.body);
      const resolved = await actions.resolve({ id, reason, actor: req.principal!.name });
      return noStore(reply).send({ alert: publicAlert(resolved) });
    },
  );

  app.post(
    '/production/alerts/silences/',
    { ...admin, errorHandler: jsonErrors(SILENCE_SHAPE) },
    async (req, reply) => {
      const s = await actions.silence(
        silenceFromBody(parseParams(silenceBody, req.body), req.principal!.name),
      );
      return noStore(reply)
        .code(201)
        .send({ silence: silenceView(s, clock.now()) });
    },
  );

  const expire = async (req: FastifyRequest, reply: FastifyReply) => {
    const id = (req.params as { id: string }).id;
    const s = await actions.expireSilence(id, req.principal!.name);
    return noStore(reply).send({ silence: silenceView(s, clock.now()) });
  };
  app.delete('/production/alerts/silences/:id', admin, expire);
  app.post('/production/alerts/silences/:id/expire', admin, expire);
}
