/**
 * `POST /production/ingest`: rollups pushed by the embedded monitors and agents of other processes,
 * stored under the sender's instance. Needs a push (or admin) token; the body is validated strictly
 * (400 names the field) and admitted within the limits of `metrics.ingest` (429 with Retry-After names
 * the limit; see src/metrics/admission.ts). A pusher over a limit is an own problem of the monitor,
 * reported by the `self` check (so a `system` alert names it).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../app.js';
import { OwnProblems } from '../../checks/self/problems.js';
import { admissionLimits, LIMIT, PushAdmission } from '../../metrics/admission.js';
import { parsePushBody } from '../../metrics/push-body.js';
import { MAX_ROWS_PER_BATCH } from '../../metrics/wire.js';
import { requireRole } from '../auth.js';

/** Bytes of a request body: its Content-Length, or (chunked) the size of the parsed JSON. */
function bodyBytes(req: FastifyRequest): number {
  const declared = Number(req.headers['content-length']);
  return Number.isFinite(declared) && declared >= 0 ? declared : Buffer.byteLength(JSON.stringify(req.body));
}

/** The admission of pushed rollups for a monitor, its problems reported by the `self` check as `ingest`. */
export function pushAdmission(ctx: AppContext): PushAdmission {
  const problems = new OwnProblems(() => {
    if (ctx.lifecycle.ready) ctx.health?.run().catch(() => {});
  });
  const admission = new PushAdmission({
    clock: ctx.clock,
    limits: admissionLimits(ctx.config.metrics),
    ownInstance: ctx.config.instanceId,
    upsert: async (rows) => {
      await ctx.store.rollups.upsert(rows);
      await ctx.metrics.written(rows); // the alert windows' kept minutes take them in; other instances are told
    },
    stored: (key) => ctx.store.rollups.get(key),
    notifyData: (metrics) => ctx.metrics.notifyPushed(metrics),
    onProblem: (pusher, reason) => {
      if (reason === null) problems.clear(pusher);
      else problems.set(pusher, reason, ctx.clock.now(), 'degraded');
    },
  });
  ctx.health?.addSelfProbe('ingest', () => {
    admission.sweepProblems();
    return problems.probe();
  });
  return admission;
}

/** Registers the ingest route. */
export function ingestRoutes(app: FastifyInstance, ctx: AppContext): void {
  const admission = pushAdmission(ctx);
  // In a scope of its own: its JSON bodies are parsed in slices (see parsePushBody), other routes'
  // with Fastify's parser.
  app.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req: unknown, body: Buffer) =>
      parsePushBody(body),
    );
    scope.post(
      '/production/ingest',
      { ...requireRole(ctx.auth, 'push'), bodyLimit: MAX_ROWS_PER_BATCH * 4096 },
      async (req, reply) => {
        const out = await admission.accept(req.principal?.name ?? '', req.body, bodyBytes(req));
        if (out.status === 429) {
          reply.header('retry-after', String(out.retryAfterS));
          if (out.limit?.name === LIMIT.rows) reply.header('x-prodmon-max-rows', String(out.limit.value));
        }
        return reply.code(out.status).send(out.body);
      },
    );
  });
}
