/**
 * `GET /metrics`: the Prometheus text exposition, or OpenMetrics when the `Accept` header prefers it
 * (token required when `auth.metrics_require_token`).
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../app.js';
import { negotiateFormat } from '../../metrics/prometheus.js';
import { requireRole } from '../auth.js';

/** Registers the Prometheus route (unless `metrics.prometheus.enabled` is false). */
export function metricsRoutes(app: FastifyInstance, ctx: AppContext): void {
  if (!ctx.config.metrics.prometheus.enabled) return;
  const auth = ctx.config.auth.metrics_require_token ? requireRole(ctx.auth, 'read') : {};
  app.get('/metrics', auth, async (req, reply) => {
    const format = negotiateFormat(req.headers.accept);
    const body = await ctx.metrics.prometheus.metrics(format);
    return reply
      .header('content-type', ctx.metrics.prometheus.contentTypeOf(format))
      .header('vary', 'Accept')
      .header('cache-control', 'no-store')
      .send(body);
  });
}
