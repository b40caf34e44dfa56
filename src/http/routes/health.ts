/**
 * The public health routes: `GET /health/` for load balancers (answered from the health service's cache,
 * never slower than `health.budget`), `/health/live` (the process only) and `/health/ready`
 * (dependencies; fails while draining on shutdown). No details, versions or errors here: those need a
 * token (`/production/health/detailed/`).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppContext } from '../../app.js';
import type { HealthStatus } from '../../domain/health.js';

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
export function healthRoutes(app: FastifyInstance, ctx: AppContext): void {
  const budget = ctx.config.health.budget;
  const { lifecycle } = ctx;
  // A context without the health service (route tests of other parts) answers from the store heartbeat.
  const health = ctx.health ?? {
    cachedStatus: () => lifecycle.selfStatus(),
    waitStatus: async () => lifecycle.selfStatus(),
  };

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
