/**
 * `POST /production/ingest`: rollups pushed by the embedded monitors of other processes, stored under
 * the sender's instance id. Needs an admin token; the body is validated strictly (400 names the field).
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../app.js';
import { ProdmonError } from '../../core/errors.js';
import { MAX_ROWS_PER_BATCH, parseBatch } from '../../metrics/wire.js';
import { requireRole } from '../auth.js';

/** Registers the ingest route. */
export function ingestRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.post(
    '/production/ingest',
    { ...requireRole(ctx.auth, 'push'), bodyLimit: MAX_ROWS_PER_BATCH * 4096 },
    async (req, reply) => {
      const { instance, rows } = parseBatch(req.body, ctx.clock.now());
      if (instance === ctx.config.instanceId) {
        throw new ProdmonError(
          'PRODMON_E_BAD_REQUEST',
          `instance "${instance}" is this monitor's own id; give each pushing process its own (config: instance)`,
        );
      }
      await ctx.store.rollups.upsert(rows);
      ctx.metrics.recorder.notifyData(new Set(rows.map((r) => r.metric)));
      return reply.code(200).send({ accepted: rows.length, instance });
    },
  );
}
