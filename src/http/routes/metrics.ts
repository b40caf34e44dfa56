/**
 * `GET /metrics`: the Prometheus text exposition, or OpenMetrics when the `Accept` header prefers it
 * (token required when `auth.metrics_require_token`).
 */
import type { FastifyInstance } from 'fastify';
import type { MetricsEngine } from '../../metrics/engine.js';
import { negotiateFormat } from '../../metrics/prometheus.js';
import { requireRole, type TokenAuth } from '../auth.js';

/** What the Prometheus route uses (registered only when `metrics.prometheus.enabled`). */
export interface MetricsRouteDeps {
  auth: TokenAuth;
  /** Whether a token (any role) is required (`auth.metrics_require_token`). */
  requireToken: boolean;
  prometheus: MetricsEngine['prometheus'];
}

/** Registers the Prometheus route. */
export function metricsRoutes(app: FastifyInstance, deps: MetricsRouteDeps): void {
  const { prometheus } = deps;
  const auth = deps.requireToken ? requireRole(deps.auth, 'read') : {};
  app.get('/metrics', auth, async (req, reply) => {
    const format = negotiateFormat(req.headers.accept);
    const body = await prometheus.metrics(format);
    return reply
      .header('content-type', prometheus.contentTypeOf(format))
      .header('vary', 'Accept')
      .header('cache-control', 'no-store')
      .send(body);
  });
}
