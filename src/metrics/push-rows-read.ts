/**
 * Reading a binary push body (`application/vnd.prodmon.rows`, laid out in src/metrics/push-rows.ts)
 * into store rows, with the checks and the error wording of the JSON body (src/metrics/wire.ts): the
 * same rows are accepted either way, and a refusal names the row and field (`rows[3].bucket: ...`).
 *
 * What makes it cheaper than JSON: a row's strings are cut from the bytes (the metric of the row before
 * is reused when its bytes are the same), a label set is checked once and then known (a set of label
 * texts already checked, cleared past `KNOWN_LABELS`), the figures are read as doubles, and a sketch is
 * copied as it is.
 */
import { ProdmonError } from '../core/errors.js';
import { Slicer } from '../core/slice.js';
import type { RollupRow } from '../domain/rollup.js';
import { FIGURES_BYTES, NO_SKETCH, PUSH_RECORD } from './push-rows.js';
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
  Slab,
} from './wire.js';

/** Label texts known to be valid and canonical, at most (then the set starts again). */
const KNOWN_LABELS = 100_000;
const knownLabels = new Set<string>();
/**
 * Largest label text accepted (bytes): 16 labels of 100-character names and 512-character values,
 * every character escaped (`\\u0001`, 6 bytes).
 */
const MAX_LABELS_BYTES = 2 + 16 * (100 + 6 * 512 + 6);
/** Largest sketch accepted (bytes), as the JSON body's limit on its base64 text allows. */
const MAX_SKETCH_BYTES = 750_000;

function bad(message: string): ProdmonError {
  return new ProdmonError('PRODMON_E_BAD_REQUEST', message);
}

/**
 * Reads the bytes of a body in order; throws naming where it ends early. `row` is the row being read
 * (-1: the header): an error's path (`rows[3].labels`) is made only when it is thrown.
 */
class Cursor {
  at = 0;
  row = -1;
  constructor(readonly buf: Buffer) {}

  where(field: string): string {
    return this.row < 0 ? field : `rows[${this.row}].${field}`;
  }

  need(n: number, field: string): void {
    if (this.at + n > this.buf.length) {
      throw bad(
        `the body ends early: ${this.where(field)} at byte ${this.at} needs ${n} bytes, ${this.buf.length - this.at} left`,
      );
    }
  }

  u32(field: string): number {
    this.need(4, field);
    const v = this.buf.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }

  /** A length-prefixed UTF-8 string of at most `max` bytes: its start (`at` is then at its end). */
  str(field: string, max: number): number {
    const n = this.u32(field);
    if (n > max) throw bad(`${this.where(field)}: ${n} bytes, more than ${max}`);
    this.need(n, field);
    const start = this.at;
    this.at += n;
    return start;
  }

  f64(): number {
    const v = this.buf.readDoubleLE(this.at);
    this.at += 8;
    return v;
  }
}

/** Checks a label text (once per text): valid labels in canonical form; throws naming `rows[i].labels`. */
function checkLabels(text: string, i: number): void {
  if (knownLabels.has(text)) return;
  const at = `rows[${i}].labels`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad(`${at}: must be a JSON object of label names to values`);
  }
  const parsed = rowSchema.shape.labels.safeParse(value);
  if (!parsed.success) throw invalid(parsed.error.issues, at);
  const canonical = canonicalLabels(parsed.data);
  if (canonical !== text)
    throw bad(`${at}: must be canonical JSON (keys sorted, no spaces), as ${canonical}`);
  if (knownLabels.size >= KNOWN_LABELS) knownLabels.clear();
  knownLabels.add(text);
}

/** The figures of a row, checked as the JSON body's are; throws naming `rows[i]` and the field. */
function checkFigures(r: RollupRow, i: number): void {
  const { resolution, bucket, count, sum, min, max, errors } = r;
  const no = (field: string, why: string) => bad(`rows[${i}].${field}: ${why}`);
  if (resolution !== MINUTE_MS && resolution !== HOUR_MS) {
    throw no('resolution', `must be ${MINUTE_MS} (minute) or ${HOUR_MS} (hour)`);
  }
  if (!Number.isSafeInteger(bucket) || bucket < 0)
    throw no('bucket', 'must be an integer (ms since the epoch)');
  if (!Number.isSafeInteger(count) || count < 1) throw no('count', 'must be an integer, at least 1');
  if (!Number.isSafeInteger(errors) || errors < 0) throw no('errors', 'must be an integer, not negative');
  if (!Number.isFinite(sum)) throw no('sum', 'must be a finite number');
  if (!Number.isFinite(min)) throw no('min', 'must be a finite number');
  if (!Number.isFinite(max)) throw no('max', 'must be a finite number');
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
    // The sketches are copied out: the body is dropped once journaled, and a row held for a minute
    // keeps only its sketch (in memory shared with the push's other sketches: see Slab).
    const slab = new Slab(buf.length - this.rowsAt);
    const out: RollupRow[] = new Array(this.count);
    let metric = '';
    let metricStart = 0;
    let metricEnd = 0;
    for (let i = 0; i < this.count; i++) {
      c.row = i;
      const ms = c.str('metric', 200);
      if (metric === '' || buf.compare(buf, metricStart, metricEnd, ms, c.at) !== 0) {
        metric = buf.toString('utf8', ms, c.at);
        if (!METRIC_NAME.test(metric)) {
          const r = rowSchema.shape.metric.safeParse(metric);
          throw r.success
            ? bad(`rows[${i}].metric: must be a metric name`)
            : invalid(r.error.issues, `rows[${i}].metric`);
        }
        metricStart = ms;
        metricEnd = c.at;
      }
      const ls = c.str('labels', MAX_LABELS_BYTES);
      const labels = buf.toString('utf8', ls, c.at);
      checkLabels(labels, i);
      c.need(FIGURES_BYTES, 'resolution');
      const row: RollupRow = {
        metric,
        labels,
        instance: this.instance,
        resolution: c.f64(),
        bucket: c.f64(),
        count: c.f64(),
        sum: c.f64(),
        min: c.f64(),
        max: c.f64(),
        errors: c.f64(),
        sketch: null,
      };
      checkFigures(row, i);
      checkRow(row, labels, i, now, seen);
      const n = c.u32('sketch');
      if (n !== NO_SKETCH) {
        if (n > MAX_SKETCH_BYTES)
          throw bad(`rows[${i}].sketch: too large (${n} bytes, at most ${MAX_SKETCH_BYTES})`);
        c.need(n, 'sketch');
        row.sketch = slab.take(n);
        buf.copy(row.sketch, 0, c.at, c.at + n);
        c.at += n;
        checkSketch(row.sketch, row.count, i);
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
  const is = c.str('instance', 800);
  const instance = body.toString('utf8', is, c.at);
  const count = c.u32('the number of rows');
  const parsed = batchSchema.shape.instance.safeParse(instance);
  if (!parsed.success) throw invalid(parsed.error.issues, 'instance');
  if (count > MAX_ROWS_PER_BATCH)
    throw bad(`invalid rollup batch: rows: at most ${MAX_ROWS_PER_BATCH} rows per request`);
  return new PushRowsBody(body, instance, count, c.at);
}
