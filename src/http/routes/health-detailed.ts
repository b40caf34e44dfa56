/**
 * `GET /production/health/detailed/`: every check with status, response time, details, error and when it
 * last ran, and the overall status; needs a token with the `read` role. `?refresh=true` (or `1`) runs
 * the checks first (bounded by their timeouts), `false` (or `0`) or none answers the last results;
 * another value is a 400 naming `refresh`. Secrets are scrubbed from the body as a last guard.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseParams } from '../../alerting/query.js';
import { detailedHealthJson, HEALTH_JSON_CONTENT_TYPE, wantsHealthJson } from '../../checks/health-json.js';
import type { HealthReport, HealthService } from '../../checks/service.js';
import { scrub } from '../../config/mask.js';
import type { Clock } from '../../core/clock.js';
import { requireRole, type TokenAuth } from '../auth.js';
import type { Lifecycle } from '../lifecycle.js';

/** What the detailed health route uses. */
export interface HealthDetailedRouteDeps {
  auth: TokenAuth;
  clock: Clock;
  lifecycle: Lifecycle;
  health: Pick<HealthService, 'run' | 'report'>;
  /** This instance's id (`instanceId`). */
  instance: string;
  /** Secret values of the config, scrubbed from the body. */
  secrets: readonly string[];
}

const REFRESH = { true: true, 1: true, false: false, 0: false } as const;

/** The query: whether to run the checks first (`refresh`). */
const detailedQuery = z.object({
  refresh: z
    .enum(['true', '1', 'false', '0'], {
      error: (iss) =>
        Array.isArray(iss.input)
          ? '"refresh" must be given once'
          : `"refresh" must be true or false (or 1, 0); got ${JSON.stringify(String(iss.input).slice(0, 100))}`,
    })
    .optional()
    .transform((v) => (v === undefined ? false : REFRESH[v])),
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The JSON body of the detailed view. */
export function detailedBody(
  report: HealthReport,
  deps: Pick<HealthDetailedRouteDeps, 'instance' | 'clock' | 'lifecycle'>,
) {
  return {
    status: deps.lifecycle.draining ? 'unhealthy' : report.status,
    since: iso(report.since),
    draining: deps.lifecycle.draining,
    instance: deps.instance,
    generatedAt: iso(deps.clock.now()),
    lastRunAt: iso(report.lastRunAt),
    checks: report.checks.map((r) => ({
      name: r.name,
      kind: r.kind,
      status: r.status,
      critical: r.critical,
      responseTimeMs: r.responseTimeMs,
      lastChecked: iso(r.checkedAt),
      error: r.error,
      details: r.details,
    })),
    pending: report.pending,
  };
}

/** Registers the detailed health route. */
export function healthDetailedRoutes(app: FastifyInstance, deps: HealthDetailedRouteDeps): void {
  const { health } = deps;
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const { refresh } = parseParams(detailedQuery, req.query ?? {});
    const report = refresh ? await health.run() : health.report();
    const hj = wantsHealthJson(req.headers.accept);
    const doc = hj
      ? detailedHealthJson(report, { draining: deps.lifecycle.draining, instanceId: deps.instance })
      : detailedBody(report, deps);
    const body = scrub(JSON.stringify(doc), deps.secrets);
    return reply
      .code(200)
      .header('content-type', hj ? HEALTH_JSON_CONTENT_TYPE : 'application/json; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('vary', 'accept')
      .send(body);
  };
  const opts = requireRole(deps.auth, 'read');
  app.get('/production/health/detailed/', opts, handler);
  app.get('/production/health/detailed', opts, handler);
}
