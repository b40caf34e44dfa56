/**
 * Reading a binary push body (`application/vnd.prodmon.rows`, laid out in src/metrics/push-rows.ts)
 * into store rows, with the checks and the error wording of the JSON body (src/metrics/wire.ts): the
 * same rows are accepted either way, and a refusal names the row and field (`rows[3].bucket: ...`).
 *
 * What makes it cheaper than JSON: a row's strings are cut from the bytes (the metric of the row before
 * is reused when its bytes are the same), a label set is checked once and then known (a set of label
 * texts already checked, cleared past `KNOWN_LABELS`), the figures are read as doubles, and a sketch is
 * a view of the body, which the reader owns (the body is copied once from the request's buffer).
 */
import { ProdmonError } from '../core/errors.js';
import { Slicer } from '../core/slice.js';
import type { RollupRow } from '../domain/rollup.js';
import { NO_SKETCH, PUSH_RECORD, ROW_FIXED_BYTES } from './push-rows.js';
import { canonicalLabels, HOUR_MS, MINUTE_MS } from './rollup.js';
import {
  batchSchema,
  checkRow,
  checkSketch,
  invalid,
  MAX_ROWS_PER_BATCH,
  METRIC_NAME,
  type PushBatch,
  rowSchema,
  type SeenRows,
} from './wire.js';

/** Label texts known to be valid and canonical, at most (then the set starts again). */
const KNOWN_LABELS = 100_000;
const knownLabels = new Set<string>();
/** Largest sketch accepted (bytes), as the JSON body's limit on its base64 text allows. */
const MAX_SKETCH_BYTES = 750_000;

function bad(message: string): ProdmonError {
  return new ProdmonError('PRODMON_E_BAD_REQUEST', message);
}

/** Reads the bytes of a body in order; throws naming where it ends early. */
class Cursor {
  at = 0;
  constructor(readonly buf: Buffer) {}

  need(n: number, what: string): void {
    if (this.at + n > this.buf.length) {
      throw bad(
        `the body ends early: ${what} at byte ${this.at} needs ${n} bytes, ${this.buf.length - this.at} left`,
      );
    }
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }

  /** A length-prefixed UTF-8 string of at most `max` bytes. */
  str(what: string, max: number): [start: number, end: number] {
    const n = this.u32(what);
    if (n > max) throw bad(`${what}: ${n} bytes, more than ${max}`);
    this.need(n, what);
    const start = this.at;
    this.at += n;
    return [start, this.at];
  }

  f64(): number {
    const v = this.buf.readDoubleLE(this.at);
    this.at += 8;
    return v;
  }
}

/** Checks a label text (once per text): valid labels in canonical form; throws naming `at`.labels. */
function checkLabels(text: string, at: string): void {
  if (knownLabels.has(text)) return;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad(`${at}.labels: must be a JSON object of label names to values`);
  }
  const parsed = rowSchema.shape.labels.safeParse(value);
  if (!parsed.success) throw invalid(parsed.error.issues, `${at}.labels`);
  if (canonicalLabels(parsed.data) !== text) {
    throw bad(
      `${at}.labels: must be canonical JSON (keys sorted, no spaces), as ${canonicalLabels(parsed.data)}`,
    );
  }
  if (knownLabels.size >= KNOWN_LABELS) knownLabels.clear();
  knownLabels.add(text);
}

/** A binary push body, its header read (see `readPushRows`); `rows` validates the rows. */
export class PushRowsBody implements PushBatch {
  constructor(
    readonly body: Buffer,
    readonly instance: string,
    readonly count: number,
    readonly rowsAt: number,
  ) {}

  /** The body is the journal record of its rows (src/metrics/open-minutes.ts). */
  get record(): Buffer {
    return this.body;
  }

  /**
   * The rows under the sender's instance, each checked as a JSON row is (src/metrics/wire.ts), in
   * slices (see `Slicer`). Throws PRODMON_E_BAD_REQUEST naming the row and field.
   */
  async rows(now: number, slicer = new Slicer()): Promise<RollupRow[]> {
    const c = new Cursor(this.body);
    c.at = this.rowsAt;
    const buf = this.body;
    const seen: SeenRows = new Map();
    const out: RollupRow[] = new Array(this.count);
    let metric = '';
    let metricStart = 0;
    let metricEnd = 0;
    for (let i = 0; i < this.count; i++) {
      const at = `rows[${i}]`;
      const [ms, me] = c.str(`${at}.metric`, 200);
      if (metric === '' || buf.compare(buf, metricStart, metricEnd, ms, me) !== 0) {
        metric = buf.toString('utf8', ms, me);
        if (!METRIC_NAME.test(metric)) {
          const r = rowSchema.shape.metric.safeParse(metric);
          throw r.success
            ? bad(`${at}.metric: must be a metric name`)
            : invalid(r.error.issues, `${at}.metric`);
        }
        metricStart = ms;
        metricEnd = me;
      }
      const [ls, le] = c.str(`${at}.labels`, 16 * (100 + 512 * 6 + 8) + 2);
      const labels = buf.toString('utf8', ls, le);
      checkLabels(labels, at);
      c.need(ROW_FIXED_BYTES - 12, at);
      const resolution = c.f64();
      const bucket = c.f64();
      const count = c.f64();
      const sum = c.f64();
      const min = c.f64();
      const max = c.f64();
      const errors = c.f64();
      if (resolution !== MINUTE_MS && resolution !== HOUR_MS) {
        throw bad(`${at}.resolution: must be ${MINUTE_MS} (minute) or ${HOUR_MS} (hour)`);
      }
      if (!Number.isSafeInteger(bucket) || bucket < 0)
        throw bad(`${at}.bucket: must be an integer (ms since the epoch)`);
      if (!Number.isSafeInteger(count) || count < 1) throw bad(`${at}.count: must be an integer, at least 1`);
      if (!Number.isSafeInteger(errors) || errors < 0)
        throw bad(`${at}.errors: must be an integer, not negative`);
      if (!Number.isFinite(sum)) throw bad(`${at}.sum: must be a finite number`);
      if (!Number.isFinite(min)) throw bad(`${at}.min: must be a finite number`);
      if (!Number.isFinite(max)) throw bad(`${at}.max: must be a finite number`);
      const row: RollupRow = {
        metric,
        labels,
        instance: this.instance,
        resolution,
        bucket,
        count,
        sum,
        min,
        max,
        errors,
        sketch: null,
      };
      checkRow(row, labels, at, now, seen);
      const n = c.u32(`${at}.sketch`);
      if (n !== NO_SKETCH) {
        if (n > MAX_SKETCH_BYTES)
          throw bad(`${at}.sketch: too large (${n} bytes, at most ${MAX_SKETCH_BYTES})`);
        c.need(n, `${at}.sketch`);
        row.sketch = buf.subarray(c.at, c.at + n);
        c.at += n;
        checkSketch(row.sketch, count, at);
      }
      out[i] = row;
      if (i % 32 === 31) await slicer.pause();
    }
    if (c.at !== buf.length) throw bad(`${buf.length - c.at} bytes after the last row`);
    return out;
  }
}

/**
 * The header of a binary push body: its sender and number of rows (the rows are read by `rows`).
 * The body is kept as it is: pass a buffer of its own (not one reused for the next request).
 */
export function readPushRows(body: Buffer): PushRowsBody {
  const c = new Cursor(body);
  c.need(1, 'the kind');
  if (body[0] !== PUSH_RECORD)
    throw bad(`not a prodmon rows body: its first byte is ${body[0]}, not ${PUSH_RECORD}`);
  c.at = 1;
  const [is, ie] = c.str('instance', 800);
  const instance = body.toString('utf8', is, ie);
  const count = c.u32('the number of rows');
  const parsed = batchSchema.shape.instance.safeParse(instance);
  if (!parsed.success) throw invalid(parsed.error.issues, 'instance');
  if (count > MAX_ROWS_PER_BATCH)
    throw bad(`invalid rollup batch: rows: at most ${MAX_ROWS_PER_BATCH} rows per request`);
  return new PushRowsBody(body, instance, count, c.at);
}
