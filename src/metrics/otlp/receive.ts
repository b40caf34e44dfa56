/**
 * The OTLP/HTTP metrics receiver (`POST /v1/metrics`): a body (protobuf or JSON, gzip or not) decoded,
 * mapped onto rollup rows (./map.ts) and admitted per instance through the `PushAdmission` of
 * `POST /production/ingest` (same limits, same folding, same 429). Points that cannot be converted
 * are answered with OTLP's partial success, never an error; a malformed body is 400.
 */
import type { Clock } from '../../core/clock.js';
import type { PushAdmission, PushOutcome } from '../admission.js';
import { jsonBatch, MAX_ROWS_PER_BATCH } from '../wire.js';
import { bodyFormat, decodeRequest, encodeResponse, inflate } from './decode.js';
import type { OtlpMapper } from './map.js';

/** The answer to one export. */
export interface OtlpAnswer {
  status: number;
  headers: Record<string, string>;
  /** The encoded response (protobuf) or a JSON value. */
  body: Buffer | Record<string, unknown>;
}

/** Receives OTLP metrics exports. */
export class OtlpReceiver {
  constructor(
    readonly admission: PushAdmission,
    readonly mapper: OtlpMapper,
    readonly clock: Clock,
  ) {}

  /**
   * One export from the holder of push token `token`: `body` as received, with its Content-Type and
   * Content-Encoding. Throws PRODMON_E_BAD_REQUEST for a malformed body.
   */
  async accept(
    token: string,
    body: Buffer,
    contentType: string | undefined,
    encoding: string | undefined,
  ): Promise<OtlpAnswer> {
    const format = bodyFormat(contentType) ?? 'json';
    const req = decodeRequest(await inflate(body, encoding), format);
    const mapped = await this.mapper.map(token, req, this.clock.now());
    const totalRows = mapped.batches.reduce((n, b) => n + b.rows.length, 0);
    const chunk = Math.max(1, Math.min(MAX_ROWS_PER_BATCH, this.admission.limits.maxRowsPerRequest));
    let folded = 0;
    let limited: PushOutcome | null = null;
    for (const batch of mapped.batches) {
      for (let i = 0; i < batch.rows.length; i += chunk) {
        const rows = batch.rows.slice(i, i + chunk);
        // the body's bytes shared out over the rows (what the bytes allowances count)
        const bytes = Math.ceil((body.length * rows.length) / Math.max(1, totalRows));
        const out = await this.admission.accept(token, jsonBatch({ instance: batch.instance, rows }), bytes);
        folded += Number(out.body.folded ?? 0);
        if (out.status === 429) limited ??= out;
      }
    }
    const type = format === 'protobuf' ? 'application/x-protobuf' : 'application/json';
    if (limited) {
      // retryable in OTLP: the exporter sends the same points again, which are not counted twice
      return {
        status: 429,
        headers: { 'retry-after': String(limited.retryAfterS ?? 1) },
        body: limited.body,
      };
    }
    const notes = [...mapped.reasons];
    if (folded > 0) notes.push(`${folded} rows folded into (overflow) series (over metrics.max_series)`);
    const partial =
      mapped.rejected > 0 || notes.length > 0
        ? { rejectedDataPoints: mapped.rejected, errorMessage: notes.join('; ') }
        : null;
    return { status: 200, headers: { 'content-type': type }, body: encodeResponse(format, partial) };
  }
}
