/**
 * The dashboard's JSON API under `/production/api/`: everything the page shows, the same functions
 * the page uses, for scripts (bearer token) and the page itself (session + CSRF token). Admin
 * actions (resolve, silence) need the admin role. `GET /production/api/events` is the live stream.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AlertActions } from '../../alerting/actions.js';
import { publicAlert } from '../../alerting/plan.js';
import { alertQuery, parseParams } from '../../alerting/query.js';
import { MAX_RESOLUTION_REASON } from '../../alerting/resolve.js';
import { silenceFromBody } from '../../alerting/silences.js';
import type { Clock } from '../../core/clock.js';
import { ProdmonError } from '../../core/errors.js';
import { RANGES, rangeKey } from '../../dashboard/data.js';
import type { Dashboard } from '../../dashboard/index.js';
import { requireRole, type TokenAuth } from '../auth.js';
import { SECURITY_HEADERS, secure } from '../headers.js';
import { JSON_BODY_LIMIT } from '../limits.js';
import { maskCsrf, type SessionManager } from '../session.js';

/** What the JSON API uses. */
export interface ApiRouteDeps {
  auth: TokenAuth;
  clock: Clock;
  sessions: SessionManager;
  /** Its reads and live stream. */
  dashboard: Dashboard;
  /** Resolve, silence, expire. */
  actions: AlertActions;
}

type Req = FastifyRequest<{ Params: Record<string, string>; Querystring: Record<string, string> }>;

/** A body that is not a JSON object counts as an empty one (the action names what is missing). */
const object = (b: unknown): Record<string, unknown> =>
  b && typeof b === 'object' && !Array.isArray(b) ? (b as Record<string, unknown>) : {};

/** `{"reason": "..."}`: a reason that is not a string is none (400 from the resolution: required). */
const resolveBody = z.preprocess(
  (b) => {
    const reason = object(b).reason;
    return { reason: typeof reason === 'string' ? reason : '' };
  },
  z.object({
    reason: z
      .string()
      .max(MAX_RESOLUTION_REASON, { error: `"reason" is longer than ${MAX_RESOLUTION_REASON} characters` }),
  }),
);

/** Registers the JSON API. */
export function apiRoutes(app: FastifyInstance, deps: ApiRouteDeps): void {
  const { dashboard: dash, sessions, actions } = deps;
  const api = '/production/api';
  const read = requireRole(deps.auth, 'read');
  const admin = { ...requireRole(deps.auth, 'admin'), bodyLimit: JSON_BODY_LIMIT };

  app.get(`${api}/session`, read, async (req, reply) => {
    const s = req.headers.authorization ? null : await sessions.fromRequest(req);
    const p = req.principal!;
    return secure(reply).send({
      name: p.name,
      role: p.role,
      via: s ? `session:${s.via}` : 'bearer',
      expiresAt: s?.expiresAt ?? null,
      csrf: s ? maskCsrf(s.csrf) : null,
    });
  });

  app.get(`${api}/status`, read, async (_req, reply) => secure(reply).send(await dash.data.status()));

  app.get(`${api}/checks`, read, async (_req, reply) =>
    secure(reply).send({ checks: await dash.data.checks() }),
  );

  // `range` is one of the dashboard's periods (400 naming it otherwise).
  const ranged = {
    ...read,
    schema: {
      querystring: {
        type: 'object',
        properties: { range: { type: 'string', enum: Object.keys(RANGES) } },
      },
    },
  };

  app.get(`${api}/performance`, ranged, async (req: Req, reply) =>
    secure(reply).send(await dash.data.performance(rangeKey(req.query.range ?? '1h'))),
  );

  app.get(`${api}/performance/charts`, ranged, async (req: Req, reply) => {
    const p = await dash.data.performance(rangeKey(req.query.range ?? '1h'));
    const markers = await dash.data.chartMarkers(p.charts.from, p.until);
    return secure(reply).send({ range: p.range, times: p.charts.times, charts: p.charts.charts, markers });
  });

  app.get(`${api}/alerts`, read, async (req: Req, reply) =>
    secure(reply).send(await dash.data.alerts(alertQuery(req.query, deps.clock.now()))),
  );

  app.get(`${api}/alerts/active`, read, async (_req, reply) =>
    secure(reply).send({ alerts: await dash.data.activeAlerts() }),
  );

  app.get(`${api}/alerts/:id`, read, async (req: Req, reply) => {
    const detail = await dash.data.alertDetail(String(req.params.id));
    if (!detail) throw new ProdmonError('PRODMON_E_NOT_FOUND', `no alert with id "${req.params.id}"`);
    return secure(reply).send(detail);
  });

  app.post(`${api}/alerts/:id/resolve`, admin, async (req: Req, reply) => {
    const { reason } = parseParams(resolveBody, req.body);
    const alert = await actions.resolve({
      id: String(req.params.id),
      reason,
      actor: req.principal!.name,
    });
    return secure(reply).send({ alert: publicAlert(alert) });
  });

  app.get(`${api}/silences`, read, async (_req, reply) =>
    secure(reply).send({ silences: await dash.data.silences() }),
  );

  app.post(`${api}/silences`, admin, async (req, reply) => {
    const silence = await actions.silence(silenceFromBody(object(req.body), req.principal!.name));
    return secure(reply).code(201).send({ silence });
  });

  app.post(`${api}/silences/:id/expire`, admin, async (req: Req, reply) => {
    const silence = await actions.expireSilence(String(req.params.id), req.principal!.name);
    return secure(reply).send({ silence });
  });

  // The live stream: `state` once, then `change` (sections to refetch), `tick` (charts) and heartbeats.
  app.get(`${api}/events`, read, async (_req, reply) => {
    reply.hijack();
    if (!dash.live.attach(reply.raw, SECURITY_HEADERS)) {
      reply.raw.writeHead(503, {
        ...SECURITY_HEADERS,
        'content-type': 'application/json',
        'retry-after': '10',
      });
      reply.raw.end(
        JSON.stringify({
          error: {
            code: 'PRODMON_E_INTERNAL',
            message: 'too many live dashboard connections; try again later',
          },
        }),
      );
    }
  });
}
