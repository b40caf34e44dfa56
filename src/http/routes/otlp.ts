/**
 * `POST /v1/metrics`: OpenTelemetry metrics over OTLP/HTTP (protobuf or JSON, gzip accepted), with a
 * push (or admin) token checked before the body is read, admitted through the same `PushAdmission`
 * as `POST /production/ingest` (see src/metrics/otlp/).
 */
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../core/clock.js';
import type { PushAdmission } from '../../metrics/admission.js';
import { OtlpMapper } from '../../metrics/otlp/map.js';
import { OtlpReceiver } from '../../metrics/otlp/receive.js';
import { MAX_ROWS_PER_BATCH } from '../../metrics/wire.js';
import { requireRole, type TokenAuth } from '../auth.js';

/** What the OTLP route uses. */
export interface OtlpRouteDeps {
  auth: TokenAuth;
  clock: Clock;
  /** The ingest route's admission (its limits are shared). */
  admission: PushAdmission;
  /** `metrics.error_statuses`. */
  errorStatuses: '5xx' | '4xx+5xx';
}

/** Registers the OTLP metrics route. */
export function otlpRoutes(app: FastifyInstance, deps: OtlpRouteDeps): void {
  const mapper = new OtlpMapper({ errorStatuses: deps.errorStatuses });
  const receiver = new OtlpReceiver(deps.admission, mapper, deps.clock);
  app.register(async (scope) => {
    const raw = async (_req: unknown, body: Buffer) => body;
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      ['application/x-protobuf', 'application/protobuf'],
      { parseAs: 'buffer' },
      raw,
    );
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, raw);
    scope.post(
      '/v1/metrics',
      { ...requireRole(deps.auth, 'push'), bodyLimit: MAX_ROWS_PER_BATCH * 4096 },
      async (req, reply) => {
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const out = await receiver.accept(
          req.principal?.name ?? '',
          body,
          req.headers['content-type'],
          req.headers['content-encoding'],
        );
        return reply.code(out.status).headers(out.headers).send(out.body);
      },
    );
  });
}
