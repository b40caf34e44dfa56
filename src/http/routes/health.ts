/**
 * The public health routes: `GET /health/` for load balancers (answered from the health service's cache,
 * never slower than `health.budget`), `/health/live` (the process only) and `/health/ready`
 * (dependencies; fails while draining on shutdown). No details, versions or errors here: those need a
 * token (`/production/health/detailed/`). `Accept: application/health+json` gets the IETF draft's format
 * (`src/checks/health-json.ts`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../app.js';
import { overallAnswer, wantsHealthJson } from '../../checks/health-json.js';
import type { HealthStatus } from '../../core/types.js';

function sendStatus(
  req: FastifyRequest,
  reply: FastifyReply,
  status: HealthStatus | 'draining',
): FastifyReply {
  const a = overallAnswer(status, wantsHealthJson(req.headers.accept));
  return reply
    .code(a.code)
    .header('content-type', a.contentType)
    .header('cache-control', 'no-store')
    .header('vary', 'accept')
    .send(a.body);
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
  const overall = (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> | undefined => {
    if (lifecycle.draining) {
      sendStatus(req, reply, 'draining'); // shutting down: load balancers stop sending traffic first
      return;
    }
    const cached = health.cachedStatus();
    if (cached) {
      sendStatus(req, reply, cached);
      return;
    }
    return health.waitStatus(budget).then((s) => sendStatus(req, reply, s));
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
