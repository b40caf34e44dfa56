/** `GET /health/` (load balancers), `/health/live`, `/health/ready`. */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../app.js';

/** Registers the public health routes. */
export function healthRoutes(app: FastifyInstance, ctx: AppContext): void {
  const noStore = { 'cache-control': 'no-store' };
  app.get('/health/', async (_req, reply) => {
    const status = ctx.lifecycle.selfStatus();
    return reply
      .code(status === 'unhealthy' ? 503 : 200)
      .headers(noStore)
      .send({ status });
  });
  app.get('/health/live', async (_req, reply) => reply.headers(noStore).send({ status: 'healthy' }));
  app.get('/health/ready', async (_req, reply) => {
    const ready = ctx.lifecycle.ready && !ctx.lifecycle.draining && ctx.lifecycle.selfStatus() !== 'unhealthy';
    return reply
      .code(ready ? 200 : 503)
      .headers(noStore)
      .send({ status: ready ? 'ready' : ctx.lifecycle.draining ? 'draining' : 'not ready' });
  });
}
