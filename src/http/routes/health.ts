/**
 * The public health routes: `GET /health/` for load balancers (answered from the health service's cache,
 * never slower than `health.budget`), `/health/live` (the process only) and `/health/ready`
 * (dependencies; fails while draining on shutdown). No details, versions or errors here: those need a
 * token (`/production/health/detailed/`). `Accept: application/health+json` gets the IETF draft's format
 * (`src/checks/health-json.ts`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { overallAnswer, wantsHealthJson } from '../../checks/health-json.js';
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
export function healthRoutes(app: FastifyInstance, deps: HealthRouteDeps): void {
  const { budget, lifecycle, health } = deps;

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
