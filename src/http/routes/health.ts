/**
 * The public health routes: `GET /health/` for load balancers (answered from the health service's cache,
 * never slower than `health.budget`), `/health/live` (the process only) and `/health/ready`
 * (dependencies; fails while draining on shutdown). No details, versions or errors here: those need a
 * token (`/production/health/detailed/`).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { HealthStatus } from '../../domain/health.js';
import type { Lifecycle } from '../lifecycle.js';

/** What the public health routes use. */
export interface HealthRouteDeps {
  /** The longest `GET /health/` waits for the first results (ms; `health.budget`). */
  budget: number;
  lifecycle: Lifecycle;
  /** The health service's cached status, and a wait for it bounded by the budget. */
  health: {
    cachedStatus(): HealthStatus | null;
    waitStatus(budgetMs: number): Promise<HealthStatus>;
  };
}

const BODY: Record<HealthStatus, string> = {
  healthy: '{"status":"healthy"}',
  degraded: '{"status":"degraded"}',
  unhealthy: '{"status":"unhealthy"}',
};

function sendStatus(reply: FastifyReply, status: HealthStatus): FastifyReply {
  return reply
    .code(status === 'unhealthy' ? 503 : 200)
    .header('content-type', 'application/json; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(BODY[status]);
}

/** Registers the public health routes. */
export function healthRoutes(app: FastifyInstance, deps: HealthRouteDeps): void {
  const { budget, lifecycle, health } = deps;

  // Hot path: a cached answer is sent synchronously; only before the first results does it wait (budget).
  const overall = (_req: unknown, reply: FastifyReply): Promise<FastifyReply> | undefined => {
    if (lifecycle.draining) {
      sendStatus(reply, 'unhealthy'); // shutting down: load balancers stop sending traffic first
      return;
    }
    const cached = health.cachedStatus();
    if (cached) {
      sendStatus(reply, cached);
      return;
    }
    return health.waitStatus(budget).then((s) => sendStatus(reply, s));
  };
  app.get('/health/', overall);
  app.get('/health', overall);

  app.get('/health/live', async (_req, reply) =>
    reply.header('cache-control', 'no-store').send({ status: 'healthy' }),
  );

  app.get('/health/ready', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    if (lifecycle.draining) return reply.code(503).send({ status: 'draining' });
    if (!lifecycle.ready) return reply.code(503).send({ status: 'starting' });
    const status = await health.waitStatus(budget);
    return status === 'unhealthy' ? reply.code(503).send({ status }) : reply.send({ status: 'ready' });
  });
}
