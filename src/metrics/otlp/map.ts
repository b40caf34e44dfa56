/**
 * OTLP metrics into prodmon's per-minute rollup rows (the push wire format, so they go through the
 * same admission as `POST /production/ingest`).
 *
 * - `http.server.request.duration` (seconds; also the older `http.server.duration` in ms) becomes
 *   `http_request_duration_ms` labelled route (`http.route`, else `(unmatched)`), method
 *   (`http.request.method`) and status_class (`http.response.status_code` as `2xx`...); its points
 *   with a 5xx status (or 4xx too with `metrics.error_statuses: 4xx+5xx`), or an `error.type` and no
 *   status, count as errors.
 * - `db.client.operation.duration` (seconds) becomes `db_query_duration_ms` labelled db
 *   (`db.namespace`, else `db.system.name`/`db.system`) and operation (`db.operation.name` read as
 *   select|insert|update|delete|other).
 * - Every other metric is kept under its own name (characters outside `[a-zA-Z0-9_.:-]` become `_`)
 *   with its attributes as labels (dots become `_`; at most 16, the first by name), in its own unit:
 *   histograms as their values, gauges and non-monotonic sums as one value per point, monotonic sums
 *   (counters) as one value per export holding the increase since the previous one (a rule reads
 *   their `sum` over a window).
 * - The instance is `service.name/service.instance.id` (`host.name` when there is no instance id),
 *   characters outside `[\w.:@-]` replaced by `_`.
 *
 * Temporality: delta points are taken as they are; cumulative points as the difference from the
 * previous point of the same series (kept here, per token), a new start time or a smaller count
 * being a restart of the series (the point counts whole). The first point of a cumulative series
 * counts whole when its start is at most `FIRST_POINT_MAX_AGE_MS` old (a process that just started),
 * else it only becomes the base of the next difference (prodmon restarted while the process ran on: its
 * whole life would otherwise land in one minute). A point is counted in the minute of its
 * `timeUnixNano`. A point whose time is not after the series' previous one (an export retried) is
 * not counted again.
 *
 * Rows are sent per minute as they grow (each export of a series in the same minute re-sends the
 * minute's whole row, which replaces the stored one), like the embedded recorder's pushes.
 *
 * Quantiles: the rows' sketches (DDSketch, 1 % relative accuracy) are built from the histogram
 * buckets, each bucket's count put at its midpoint (bounds clamped to the point's min and max when
 * given). An explicit-bucket histogram's quantile is then off by at most half its bucket's width
 * (plus 1 %): with the SDK's default bounds for `http.server.request.duration` (5, 10, 25, 50, 75,
 * 100, 250, 500, 750 ms, 1, 2.5, 5, 7.5, 10 s) a p95 of 180 ms is read between 100 and 250 ms, up to
 * 75 ms off; values above the last bound are put at the point's max (or the last bound without one).
 * An exponential histogram's buckets are logarithmic like DDSketch's: a bucket (b^i, b^(i+1)] with
 * b = 2^(2^-scale) is off by at most (b-1)/(b+1) relative, plus 1 %: 4.3 % at scale 3, 0.54 % at 6,
 * under 0.1 % from scale 9 (the SDK starts at scale 20 and lowers it only as the range needs).
 *
 * Summaries (and data of no known type) are not converted: their points are counted as rejected (the
 * OTLP partial-success answer says so), as are points of unspecified temporality.
 */

import { Slicer } from '../../core/slice.js';
import type { Labels } from '../../domain/labels.js';
import { sqlOperation } from '../../instrument/sql.js';
import { methodLabel, statusClass, UNMATCHED } from '../../instrument/track.js';
import { METRIC } from '../names.js';
import { MINUTE_MS } from '../rollup.js';
import { encodeSketch, newSketch, type Sketch, sketchAdd } from '../sketch.js';
import type { WireBatch, WireRow } from '../wire.js';
import {
  type Attributes,
  type ExpHistogramPoint,
  type HistogramPoint,
  type NumberPoint,
  type OtlpMetric,
  type OtlpRequest,
  TEMPORALITY,
} from './decode.js';

/** A cumulative series' first point counts whole when it started at most this long ago. */
export const FIRST_POINT_MAX_AGE_MS = 5 * MINUTE_MS;
/** A series (and a row's minute) not seen for this long is forgotten. */
export const SERIES_IDLE_MS = 60 * MINUTE_MS;
/**
 * A minute's row is kept for growing until it has had no point for this long (an export retried
 * within it finds it); a later point of that minute starts its row again, which replaces the stored one.
 */
export const ROW_MEMORY_MS = 2 * MINUTE_MS;
/** Series whose previous point is kept, per token by default. */
export const DEFAULT_MAX_SERIES = 100_000;

export interface MapperOptions {
  /** Which HTTP statuses count as errors (`metrics.error_statuses`). */
  errorStatuses?: '5xx' | '4xx+5xx';
  /** Series tracked at most (per mapper); points of further series are rejected. */
  maxSeries?: number;
}

/** What one request became. */
export interface MapResult {
  /** One batch per instance, each with the rows the request touched (whole minutes). */
  batches: WireBatch[];
  /** Data points not converted. */
  rejected: number;
  /** Why (the first few reasons, for the partial-success message). */
  reasons: string[];
}

/** One bucket of a histogram's increase: `count` values in [lo, hi]. */
interface Bucket {
  lo: number;
  hi: number;
  count: number;
}

/** The values a point adds to its row. */
interface Contribution {
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Values and their weights (null: `count` values at the mean). */
  buckets: Bucket[] | null;
}

/** The previous point of a cumulative series. */
type Previous =
  | { kind: 'number'; start: number; value: number }
  | { kind: 'histogram'; start: number; point: HistogramPoint }
  | { kind: 'exp'; start: number; point: ExpHistogramPoint };

interface SeriesState {
  lastTime: number;
  seenAt: number;
  previous: Previous | null;
}

interface RowState {
  row: WireRow;
  sketch: Sketch;
  instance: string;
  seenAt: number;
}

/** Where a metric goes: prodmon's name, its labels, the factor to its unit, whether a point is an error. */
interface Target {
  metric: string;
  labels: Labels;
  factor: number;
  error: boolean;
}

const NAME_RE = /[^a-zA-Z0-9_.:-]/g;
const LABEL_RE = /[^a-zA-Z0-9_]/g;
const INSTANCE_RE = /[^\w.:@-]/g;
const MAX_LABELS = 16;

/** The factor from a UCUM duration unit to ms (null: not a duration unit). */
function toMs(unit: string): number | null {
  switch (unit) {
    case 's':
      return 1000;
    case 'ms':
      return 1;
    case 'us':
      return 0.001;
    case 'ns':
      return 1e-6;
    default:
      return null;
  }
}

/** The instance of a resource: `service.name/service.instance.id`. */
export function instanceOf(resource: Attributes): string {
  const part = (s: string) => s.replace(INSTANCE_RE, '_');
  const service = part(resource['service.name'] || 'unknown_service');
  const id = part(resource['service.instance.id'] || resource['host.name'] || 'default');
  return `${service.slice(0, 100)}/${id.slice(0, 99)}`;
}

function metricName(name: string): string {
  let n = name.replace(NAME_RE, '_').slice(0, 200);
  if (!/^[a-zA-Z_]/.test(n)) n = `_${n.slice(0, 199)}`;
  return n;
}

function genericLabels(attrs: Attributes): Labels {
  const out: Labels = {};
  const keys = Object.keys(attrs).sort();
  let n = 0;
  for (const k of keys) {
    if (n >= MAX_LABELS) break;
    let name = k.replace(LABEL_RE, '_').slice(0, 100);
    if (!/^[a-zA-Z_]/.test(name)) name = `_${name.slice(0, 99)}`;
    if (name in out) continue;
    out[name] = attrs[k]!.slice(0, 512);
    n++;
  }
  return out;
}

/** Maps OTLP requests onto rollup rows, keeping the previous point of each cumulative series. */
export class OtlpMapper {
  readonly #errors4xx: boolean;
  readonly #maxSeries: number;
  /** token \0 instance \0 name \0 attributes -> state. */
  readonly #series = new Map<string, SeriesState>();
  /** token \0 instance \0 metric \0 labels \0 bucket -> the minute's row so far. */
  readonly #rows = new Map<string, RowState>();
  #sweptAt = 0;

  constructor(opts: MapperOptions = {}) {
    this.#errors4xx = opts.errorStatuses === '4xx+5xx';
    this.#maxSeries = opts.maxSeries ?? DEFAULT_MAX_SERIES;
  }

  /** Series tracked (for tests and the benchmark). */
  get seriesCount(): number {
    return this.#series.size;
  }

  /**
   * The rows of one request (`now` is the receiving time, for forgetting idle series), in slices (see
   * `Slicer`): an export of thousands of points never holds the event loop for more than a slice.
   */
  async map(token: string, req: OtlpRequest, now: number, slicer = new Slicer()): Promise<MapResult> {
    this.#sweep(now);
    const touched = new Map<string, Map<string, RowState>>();
    let rejected = 0;
    const reasons = new Set<string>();
    const reject = (n: number, why: string) => {
      if (n <= 0) return;
      rejected += n;
      if (reasons.size < 5) reasons.add(why);
    };
    for (const rm of req.resourceMetrics) {
      const instance = instanceOf(rm.resource);
      let rows = touched.get(instance);
      if (!rows) {
        rows = new Map();
        touched.set(instance, rows);
      }
      for (const m of rm.metrics) await this.#metric(token, instance, m, now, rows, reject, slicer);
    }
    const batches: WireBatch[] = [];
    for (const [instance, rows] of touched) {
      if (rows.size === 0) continue;
      const out: WireRow[] = [];
      for (const r of rows.values()) {
        out.push({ ...r.row, sketch: encodeSketch(r.sketch).toString('base64') });
        if (out.length % 64 === 0) await slicer.pause();
      }
      batches.push({ instance, rows: out });
    }
    return { batches, rejected, reasons: [...reasons] };
  }

  #target(m: OtlpMetric, attrs: Attributes): Target {
    const http = m.name === 'http.server.request.duration' || m.name === 'http.server.duration';
    const factor = toMs(m.unit || (m.name === 'http.server.duration' ? 'ms' : 's'));
    if (http && factor !== null) {
      const code = Number(attrs['http.response.status_code'] ?? attrs['http.status_code']);
      const hasStatus = Number.isInteger(code) && code > 0;
      const error = hasStatus
        ? code >= 500 || (this.#errors4xx && code >= 400)
        : attrs['error.type'] !== undefined;
      return {
        metric: METRIC.httpRequest,
        labels: {
          route: attrs['http.route'] || UNMATCHED,
          method: methodLabel(attrs['http.request.method'] ?? attrs['http.method']),
          status_class: statusClass(hasStatus ? code : 0),
        },
        factor,
        error,
      };
    }
    if (m.name === 'db.client.operation.duration' && factor !== null) {
      return {
        metric: METRIC.dbQuery,
        labels: {
          db: attrs['db.namespace'] || attrs['db.system.name'] || attrs['db.system'] || 'db',
          operation: sqlOperation(attrs['db.operation.name'] ?? attrs['db.operation'] ?? ''),
        },
        factor,
        error: attrs['error.type'] !== undefined,
      };
    }
    return { metric: metricName(m.name), labels: genericLabels(attrs), factor: 1, error: false };
  }

  async #metric(
    token: string,
    instance: string,
    m: OtlpMetric,
    now: number,
    rows: Map<string, RowState>,
    reject: (n: number, why: string) => void,
    slicer: Slicer,
  ): Promise<void> {
    const d = m.data;
    if (d.kind === 'unsupported') {
      reject(d.points, `${m.name}: ${d.what} is not supported (send histograms)`);
      return;
    }
    if (
      d.kind !== 'gauge' &&
      d.temporality !== TEMPORALITY.delta &&
      d.temporality !== TEMPORALITY.cumulative
    ) {
      reject(d.points.length, `${m.name}: aggregation temporality must be delta or cumulative`);
      return;
    }
    const cumulative = d.kind !== 'gauge' && d.temporality === TEMPORALITY.cumulative;
    let n = 0;
    for (const p of d.points) {
      if (++n % 64 === 0) await slicer.pause();
      const key = `${token}\u0000${instance}\u0000${m.name}\u0000${JSON.stringify(Object.entries(p.attributes).sort())}`;
      let s = this.#series.get(key);
      if (!s) {
        if (this.#series.size >= this.#maxSeries) {
          reject(1, `over ${this.#maxSeries} series: points of further series are not stored`);
          continue;
        }
        s = { lastTime: Number.NEGATIVE_INFINITY, seenAt: now, previous: null };
        this.#series.set(key, s);
      }
      s.seenAt = now;
      const target = this.#target(m, p.attributes);
      const bucket = Math.floor(p.time / MINUTE_MS) * MINUTE_MS;
      const rowKey = `${token}\u0000${instance}\u0000${target.metric}\u0000${JSON.stringify(target.labels)}\u0000${bucket}`;
      if (p.time <= s.lastTime) {
        // sent again (a retried export): already counted; its minute is sent again as it is
        const r = this.#rows.get(rowKey);
        if (r) rows.set(rowKey, r);
        continue;
      }
      s.lastTime = p.time;
      let c: Contribution | null;
      if (d.kind === 'gauge' || (d.kind === 'sum' && !d.monotonic)) {
        c = single((p as NumberPoint).value);
      } else if (d.kind === 'sum') {
        c = this.#counter(s, p as NumberPoint, cumulative);
      } else if (d.kind === 'histogram') {
        c = this.#histogram(s, p as HistogramPoint, cumulative);
      } else {
        c = this.#exponential(s, p as ExpHistogramPoint, cumulative);
      }
      if (!c || c.count <= 0) continue;
      const r = this.#row(rowKey, instance, target, bucket, now);
      add(r, c, target);
      rows.set(rowKey, r);
    }
  }

  #row(key: string, instance: string, t: Target, bucket: number, now: number): RowState {
    let r = this.#rows.get(key);
    if (!r) {
      r = {
        row: {
          metric: t.metric,
          labels: t.labels,
          resolution: MINUTE_MS,
          bucket,
          count: 0,
          sum: 0,
          min: Number.POSITIVE_INFINITY,
          max: Number.NEGATIVE_INFINITY,
          errors: 0,
          sketch: null,
        },
        sketch: newSketch(),
        instance,
        seenAt: now,
      };
      this.#rows.set(key, r);
    }
    r.seenAt = now;
    return r;
  }

  /** Whether a cumulative point counts whole when there is no usable previous point. */
  #whole(p: { start: number; time: number }, prev: Previous | null): boolean {
    if (prev) return true; // a restart: the new series' whole life since its start
    return p.start > 0 && p.time - p.start <= FIRST_POINT_MAX_AGE_MS;
  }

  #counter(s: SeriesState, p: NumberPoint, cumulative: boolean): Contribution | null {
    if (!cumulative) return single(p.value);
    const prev = s.previous;
    s.previous = { kind: 'number', start: p.start, value: p.value };
    if (prev?.kind === 'number' && prev.start === p.start && p.value >= prev.value) {
      return single(p.value - prev.value);
    }
    return this.#whole(p, prev) ? single(p.value) : null;
  }

  #histogram(s: SeriesState, p: HistogramPoint, cumulative: boolean): Contribution | null {
    if (!cumulative) return explicitContribution(p, p.counts, p.sum, true);
    const prev = s.previous;
    s.previous = { kind: 'histogram', start: p.start, point: p };
    if (prev?.kind === 'histogram' && prev.start === p.start && p.count >= prev.point.count) {
      const q = prev.point;
      const same = q.bounds.length === p.bounds.length && q.bounds.every((b, i) => b === p.bounds[i]);
      const diff = same ? p.counts.map((c, i) => c - (q.counts[i] ?? 0)) : null;
      if (diff?.every((c) => c >= 0)) {
        const sum = p.sum !== undefined && q.sum !== undefined ? p.sum - q.sum : undefined;
        return explicitContribution({ ...p, count: p.count - q.count }, diff, sum, false);
      }
    }
    return this.#whole(p, prev) ? explicitContribution(p, p.counts, p.sum, false) : null;
  }

  #exponential(s: SeriesState, p: ExpHistogramPoint, cumulative: boolean): Contribution | null {
    if (!cumulative) return expContribution(p, true);
    const prev = s.previous;
    s.previous = { kind: 'exp', start: p.start, point: p };
    if (prev?.kind === 'exp' && prev.start === p.start && p.count >= prev.point.count) {
      const diff = expDifference(p, prev.point);
      if (diff) return expContribution(diff, false);
    }
    return this.#whole(p, prev) ? expContribution(p, false) : null;
  }

  /** Forgets idle series and past minutes (at most once a minute). */
  #sweep(now: number): void {
    if (now - this.#sweptAt < MINUTE_MS) return;
    this.#sweptAt = now;
    for (const [k, s] of this.#series) if (now - s.seenAt >= SERIES_IDLE_MS) this.#series.delete(k);
    for (const [k, r] of this.#rows) {
      if (now - r.seenAt >= ROW_MEMORY_MS || now - r.row.bucket >= ROW_MEMORY_MS + MINUTE_MS)
        this.#rows.delete(k);
    }
  }
}

function single(v: number): Contribution | null {
  if (!Number.isFinite(v)) return null;
  return { count: 1, sum: v, min: v, max: v, buckets: null };
}

/** Adds a contribution to a row, in the target's unit. */
function add(r: RowState, c: Contribution, t: Target): void {
  const f = t.factor;
  const row = r.row;
  row.count += c.count;
  row.sum += c.sum * f;
  row.min = Math.min(row.min, c.min * f);
  row.max = Math.max(row.max, c.max * f);
  if (t.error) row.errors += c.count;
  if (c.buckets === null) {
    sketchAdd(r.sketch, (c.sum / c.count) * f, c.count);
    return;
  }
  for (const b of c.buckets) {
    if (b.count > 0) sketchAdd(r.sketch, ((b.lo + b.hi) / 2) * f, b.count);
  }
}

/** From buckets and what is known of a point: count, sum, min and max (`exact`: the point's min/max are the interval's). */
function contribution(
  buckets: Bucket[],
  p: { sum?: number; min?: number; max?: number },
  sum: number | undefined,
  exact: boolean,
): Contribution | null {
  const used = buckets.filter((b) => b.count > 0);
  if (used.length === 0) return null;
  // bounds clamped to the point's min/max (of the interval, or of the series' whole life: still bounds)
  for (const b of used) {
    if (p.min !== undefined && Number.isFinite(p.min)) {
      b.lo = Math.max(b.lo, p.min);
      b.hi = Math.max(b.hi, p.min);
    }
    if (p.max !== undefined && Number.isFinite(p.max)) {
      b.hi = Math.min(b.hi, p.max);
      b.lo = Math.min(b.lo, p.max);
    }
  }
  const count = used.reduce((n, b) => n + b.count, 0);
  const min = exact && p.min !== undefined && Number.isFinite(p.min) ? p.min : used[0]!.lo;
  const max = exact && p.max !== undefined && Number.isFinite(p.max) ? p.max : used[used.length - 1]!.hi;
  const estimated = used.reduce((s, b) => s + ((b.lo + b.hi) / 2) * b.count, 0);
  const total = sum !== undefined && Number.isFinite(sum) ? sum : estimated;
  if (![total, min, max].every(Number.isFinite)) return null;
  return { count, sum: total, min: Math.min(min, max), max: Math.max(min, max), buckets: used };
}

function explicitContribution(
  p: HistogramPoint,
  counts: number[],
  sum: number | undefined,
  exact: boolean,
): Contribution | null {
  const b = p.bounds;
  if (counts.length === 0) {
    // no buckets: the point's count at its mean
    if (p.count <= 0 || sum === undefined) return null;
    const mean = sum / p.count;
    return { count: p.count, sum, min: p.min ?? mean, max: p.max ?? mean, buckets: null };
  }
  const buckets: Bucket[] = counts.map((count, i) => {
    const lo = i === 0 ? Math.min(0, b[0] ?? 0) : b[i - 1]!;
    const hi = i === b.length ? (p.max !== undefined && p.max > lo ? p.max : lo) : b[i]!;
    return { lo, hi, count };
  });
  return contribution(buckets, p, sum, exact);
}

function expContribution(p: ExpHistogramPoint, exact: boolean): Contribution | null {
  const base = 2 ** (2 ** -p.scale);
  const buckets: Bucket[] = [];
  // negative values (no duration has them) and the zero bucket count as 0
  const nonPositive = p.zeroCount + p.negative.counts.reduce((n, c) => n + c, 0);
  if (nonPositive > 0) buckets.push({ lo: 0, hi: 0, count: nonPositive });
  p.positive.counts.forEach((count, i) => {
    const index = p.positive.offset + i;
    buckets.push({ lo: base ** index, hi: base ** (index + 1), count });
  });
  return contribution(buckets, p, p.sum, exact);
}

/** Bucket counts by index, at `scale` (from a finer one by merging 2^k buckets into one). */
function countsAt(b: { offset: number; counts: number[] }, shift: number): Map<number, number> {
  const out = new Map<number, number>();
  b.counts.forEach((c, i) => {
    if (c === 0) return;
    const index = (b.offset + i) >> shift;
    out.set(index, (out.get(index) ?? 0) + c);
  });
  return out;
}

/** The increase from `q` to `p` of a cumulative exponential histogram (null: not a difference). */
function expDifference(p: ExpHistogramPoint, q: ExpHistogramPoint): ExpHistogramPoint | null {
  if (q.scale < p.scale) return null;
  const shift = q.scale - p.scale;
  const sideDiff = (
    cur: { offset: number; counts: number[] },
    prev: { offset: number; counts: number[] },
  ) => {
    const c = countsAt(cur, 0);
    for (const [i, n] of countsAt(prev, shift)) c.set(i, (c.get(i) ?? 0) - n);
    if ([...c.values()].some((n) => n < 0)) return null;
    const keys = [...c.keys()];
    if (keys.length === 0) return { offset: 0, counts: [] };
    const lo = Math.min(...keys);
    const hi = Math.max(...keys);
    const counts = new Array<number>(hi - lo + 1).fill(0);
    for (const [i, n] of c) counts[i - lo] = n;
    return { offset: lo, counts };
  };
  const positive = sideDiff(p.positive, q.positive);
  const negative = sideDiff(p.negative, q.negative);
  const zeroCount = p.zeroCount - q.zeroCount;
  if (!positive || !negative || zeroCount < 0) return null;
  return {
    ...p,
    count: p.count - q.count,
    sum: p.sum !== undefined && q.sum !== undefined ? p.sum - q.sum : undefined,
    zeroCount,
    positive,
    negative,
  };
}
