/**
 * `POST /production/ingest`: rollups pushed by the embedded monitors and agents of other processes,
 * stored under the sender's instance. Needs a push (or admin) token; the body is validated strictly
 * (400 names the field) and admitted within the limits of `metrics.ingest` (429 with Retry-After names
 * the limit; see src/metrics/admission.ts). A pusher over a limit is an own problem of the monitor,
 * reported by the `self` check (so a `system` alert names it).
 */
import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';
import { OwnProblems } from '../../checks/self/problems.js';
import type { HealthService } from '../../checks/service.js';
import type { Clock } from '../../core/clock.js';
import { type AdmissionLimits, LIMIT, PushAdmission } from '../../metrics/admission.js';
import type { MetricsEngine } from '../../metrics/engine.js';
import type { OpenMinutes } from '../../metrics/open-minutes.js';
import { BodyBuffers, parsePushBody } from '../../metrics/push-body.js';
import { PUSH_ROWS_TYPE } from '../../metrics/push-rows.js';
import { PushRowsBody, readPushRows } from '../../metrics/push-rows-read.js';
import { jsonBatch, MAX_ROWS_PER_BATCH } from '../../metrics/wire.js';
import type { Store } from '../../store/index.js';
import { requireRole, type TokenAuth } from '../auth.js';
import type { Lifecycle } from '../lifecycle.js';

/** What the ingest route uses. */
export interface IngestRouteDeps {
  auth: TokenAuth;
  clock: Clock;
  /** The limits of `metrics.ingest` (see admissionLimits). */
  limits: AdmissionLimits;
  /** This instance's id: rows pushed under it are refused. */
  instance: string;
  store: Pick<Store, 'rollups'>;
  /**
   * Where pushed rows of open minutes are held until they settle (journaled first; SQLite), or none:
   * rows are written to the store as they come (PostgreSQL, where other instances read them).
   */
  openMinutes?: Pick<OpenMinutes, 'put'> | null;
  metrics: Pick<MetricsEngine, 'written' | 'notifyPushed'>;
  /** Pushers over a limit are reported by the `self` check (probe `ingest`), re-run at once. */
  health: Pick<HealthService, 'run' | 'addSelfProbe'>;
  lifecycle: Pick<Lifecycle, 'ready'>;
  /** The admission to use (shared with `POST /v1/metrics`); default: one of its own (`pushAdmission`). */
  admission?: PushAdmission;
}

/** Rows written per statement batch when rows go straight to the store (then the loop gets a turn). */
const WRITE_CHUNK = 64;

/** Bytes of a request body: its Content-Length, or (chunked) the size of the parsed JSON. */
function bodyBytes(req: FastifyRequest): number {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared >= 0) return declared;
  return req.body instanceof PushRowsBody
    ? req.body.body.length
    : Buffer.byteLength(JSON.stringify(req.body));
}

/** The admission of pushed rollups for a monitor, its problems reported by the `self` check as `ingest`. */
export function pushAdmission(deps: Omit<IngestRouteDeps, 'auth' | 'admission'>): PushAdmission {
  const { store, metrics, clock } = deps;
  const problems = new OwnProblems(() => {
    if (deps.lifecycle.ready) deps.health.run().catch(() => {});
  });
  const admission = new PushAdmission({
    clock,
    limits: deps.limits,
    ownInstance: deps.instance,
    upsert: async (rows, slicer, record) => {
      if (deps.openMinutes) await deps.openMinutes.put(rows, slicer, record);
      else {
        for (let i = 0; i < rows.length; i += WRITE_CHUNK) {
          await store.rollups.upsert(rows.slice(i, i + WRITE_CHUNK));
          await slicer.pause();
        }
      }
      await metrics.written(rows); // the alert windows' kept minutes take them in; other instances are told
    },
    stored: (key) => store.rollups.get(key),
    notifyData: (names) => metrics.notifyPushed(names),
    onProblem: (pusher, reason) => {
      if (reason === null) problems.clear(pusher);
      else problems.set(pusher, reason, clock.now(), 'degraded');
    },
  });
  deps.health.addSelfProbe('ingest', () => {
    admission.sweepProblems();
    return problems.probe();
  });
  return admission;
}

/** Registers the ingest route. */
export function ingestRoutes(app: FastifyInstance, deps: IngestRouteDeps): void {
  const admission = deps.admission ?? pushAdmission(deps);
  // In a scope of its own: its JSON bodies are parsed in slices (see parsePushBody), other routes'
  // with Fastify's parser.
  const limit = MAX_ROWS_PER_BATCH * 4096;
  const bodies = new BodyBuffers({
    tooLarge: () => new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(),
    wrongLength: () => new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH(),
  });
  app.register(async (scope) => {
    // The body read into a buffer kept for the next push (see BodyBuffers), then parsed in slices.
    scope.addContentTypeParser('application/json', (req: FastifyRequest, payload: NodeJS.ReadableStream) =>
      bodies.read(payload, Number(req.headers['content-length'] ?? Number.NaN), limit, (body) =>
        parsePushBody(body),
      ),
    );
    // A binary body (src/metrics/push-rows.ts): its header read at once, its rows by the admission.
    // Copied out of the kept buffer: the body is journaled as it came once its rows are checked, by
    // when the kept buffer may be taking in the next push.
    scope.addContentTypeParser(PUSH_ROWS_TYPE, (req: FastifyRequest, payload: NodeJS.ReadableStream) =>
      bodies.read(payload, Number(req.headers['content-length'] ?? Number.NaN), limit, async (body) => {
        // (copy(): Buffer.from(aBuffer) took its array-like path, a few hundred µs per push here)
        const own = Buffer.allocUnsafeSlow(body.length);
        body.copy(own);
        return readPushRows(own);
      }),
    );
    scope.post(
      '/production/ingest',
      { ...requireRole(deps.auth, 'push'), bodyLimit: limit },
      async (req, reply) => {
        const batch = req.body instanceof PushRowsBody ? req.body : jsonBatch(req.body);
        const out = await admission.accept(req.principal?.name ?? '', batch, bodyBytes(req));
        if (out.status === 429) {
          reply.header('retry-after', String(out.retryAfterS));
          if (out.limit?.name === LIMIT.rows) reply.header('x-prodmon-max-rows', String(out.limit.value));
        }
        return reply.code(out.status).send(out.body);
      },
    );
  });
}
