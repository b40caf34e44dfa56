/**
 * Admission control of pushed rollups (`POST /production/ingest`): what one push token and one
 * pushing instance may put into a standalone prodmon, so that a runaway deploy (a route label made of
 * raw URLs, an instance name per request) cannot grow its series, its memory and its alerts without
 * bound.
 *
 * Per pushing instance (token + instance name): at most `metrics.max_series` label sets per metric,
 * like the recorder's own series (more fold into the instance's `(overflow)` series of that metric), at
 * most `max_new_series_per_minute` label sets first seen per minute, and `max_bytes_per_second` of
 * request bodies. Per token: at most `max_instances` instances at once, `max_series_per_metric` over
 * all of them (more fold as above), and its own new-series and bytes allowances. Rows per request are
 * bounded by `max_rows_per_request`. A request over a rate limit is answered 429 with Retry-After and
 * a body naming the limit; the rows it could take are stored all the same (a retry replaces them,
 * nothing counts twice) and only those over the limit wait for the retry. Rows of a label set beyond
 * the series limits are folded into the overflow series, never dropped. Every limit hit is an own
 * problem of the monitor (the `self` check, so the built-in `system` alert), one per pusher.
 *
 * Folding is idempotent for re-sent rows: a pusher sends a minute again each time it grows (and again
 * after a failed or limited push), so each folded label set's last contribution to each minute is
 * remembered (its count, sum and errors; for `FOLD_MEMORY_MS`) and only the growth is added: the
 * counts are exact, the quantiles of a grown row are approximated by the row's own shape (its sketch
 * scaled to the growth). A minute folded again after it left that memory (a pusher catching up
 * after a long outage, or across a restart of this prodmon) adds its rows as they come.
 *
 * The state is in memory: after a restart every series is new again (as the recorder's are), which
 * the default allowances absorb for a fleet of 100 instances x 200 routes.
 */
import type { Clock } from '../core/clock.js';
import { ProdmonError } from '../core/errors.js';
import { Slicer } from '../core/slice.js';
import type { Labels } from '../domain/labels.js';
import type { RollupRow } from '../domain/rollup.js';
import { OVERFLOW } from './recorder.js';
import { canonicalLabels, emptyStats, HOUR_MS, MINUTE_MS, parseLabels, type RollupStats } from './rollup.js';
import { decodeSketch, emptySketch, encodeSketch, type Sketch, scaleSketch, sketchMerge } from './sketch.js';
import type { PushBatch } from './wire.js';

/** The limits (from `metrics.ingest` and `metrics.max_series`). */
export interface AdmissionLimits {
  maxRowsPerRequest: number;
  /** Label sets per metric of one pushing instance (`metrics.max_series`). */
  maxSeriesPerMetric: number;
  instance: { maxNewSeriesPerMinute: number; maxBytesPerSecond: number };
  token: {
    maxInstances: number;
    maxSeriesPerMetric: number;
    maxNewSeriesPerMinute: number;
    maxBytesPerSecond: number;
  };
  /** A pusher's problem clears after this long without a limit hit. */
  problemClearAfterMs: number;
}

/** The limits of a resolved `metrics` config section. */
export function admissionLimits(m: {
  max_series: number;
  ingest: {
    max_rows_per_request: number;
    per_instance: { max_new_series_per_minute: number; max_bytes_per_second: number };
    per_token: {
      max_instances: number;
      max_series_per_metric: number;
      max_new_series_per_minute: number;
      max_bytes_per_second: number;
    };
    problem_clear_after: number;
  };
}): AdmissionLimits {
  const i = m.ingest;
  return {
    maxRowsPerRequest: i.max_rows_per_request,
    maxSeriesPerMetric: m.max_series,
    instance: {
      maxNewSeriesPerMinute: i.per_instance.max_new_series_per_minute,
      maxBytesPerSecond: i.per_instance.max_bytes_per_second,
    },
    token: {
      maxInstances: i.per_token.max_instances,
      maxSeriesPerMetric: i.per_token.max_series_per_metric,
      maxNewSeriesPerMinute: i.per_token.max_new_series_per_minute,
      maxBytesPerSecond: i.per_token.max_bytes_per_second,
    },
    problemClearAfterMs: i.problem_clear_after,
  };
}

/** The config names of the limits, as responses and problems name them. */
export const LIMIT = {
  rows: 'metrics.ingest.max_rows_per_request',
  series: 'metrics.max_series',
  instanceNew: 'metrics.ingest.per_instance.max_new_series_per_minute',
  instanceBytes: 'metrics.ingest.per_instance.max_bytes_per_second',
  tokenInstances: 'metrics.ingest.per_token.max_instances',
  tokenSeries: 'metrics.ingest.per_token.max_series_per_metric',
  tokenNew: 'metrics.ingest.per_token.max_new_series_per_minute',
  tokenBytes: 'metrics.ingest.per_token.max_bytes_per_second',
} as const;
export type LimitName = (typeof LIMIT)[keyof typeof LIMIT];

/** How long a folded label set's contribution to a minute is remembered (see the module comment). */
export const FOLD_MEMORY_MS = 10 * MINUTE_MS;
/** An instance without a push for this long is forgotten (its series no longer count for its token). */
export const INSTANCE_IDLE_MS = HOUR_MS;
/** Seconds of a bytes allowance that may be spent at once. */
const BYTES_BURST_S = 10;

/** What the admission needs from the store and the recorder. */
export interface AdmissionDeps {
  clock: Clock;
  limits: AdmissionLimits;
  /** This monitor's own instance id (a pusher may not use it). */
  ownInstance: string;
  /**
   * Stores rows (replacing same keys), durably once it resolves; may yield to the loop (`slicer`).
   * `record`: the push's body, a journal record of exactly these rows, when there is one.
   */
  upsert(rows: readonly RollupRow[], slicer: Slicer, record?: Buffer | null): Promise<void>;
  /** The stored row of one key, or null. */
  stored(
    key: Pick<RollupRow, 'metric' | 'labels' | 'instance' | 'resolution' | 'bucket'>,
  ): Promise<RollupRow | null>;
  /** Announces metrics that received data (to the alert engine). */
  notifyData(metrics: Iterable<string>): void;
  /** A pusher hit a limit (`reason` names it), or (null) has not for `problemClearAfterMs`. */
  onProblem(pusher: string, reason: string | null): void;
}

/** The outcome of one push. */
export interface PushOutcome {
  status: 200 | 429;
  /** Seconds to wait before retrying (429). */
  retryAfterS?: number;
  /** The limit that answered 429, and its value. */
  limit?: { name: LimitName; value: number };
  body: Record<string, unknown>;
}

/**
 * An allowance that refills `perMs` per millisecond up to `capacity`; spending may take it below zero
 * (a large request passes when anything is left), and nothing more passes until it is back above.
 */
class Allowance {
  #level: number;
  #at: number;

  constructor(
    readonly capacity: number,
    readonly perMs: number,
    now: number,
  ) {
    this.#level = capacity;
    this.#at = now;
  }

  level(now: number): number {
    if (now > this.#at) {
      this.#level = Math.min(this.capacity, this.#level + (now - this.#at) * this.perMs);
      this.#at = now;
    }
    return this.#level;
  }

  spend(n: number): void {
    this.#level -= n;
  }

  /** Milliseconds until at least `need` (at most the capacity) is available. */
  waitMs(now: number, need: number): number {
    const short = Math.min(need, this.capacity) - this.level(now);
    return short <= 0 ? 0 : short / this.perMs;
  }
}

/** A folded label set's last contribution to one minute. */
interface Contribution {
  count: number;
  sum: number;
  errors: number;
}

/** The overflow row of one minute, as folded so far. */
interface FoldedMinute extends RollupStats {
  resolution: number;
  bucket: number;
}

interface MetricState {
  name: string;
  /** Label sets stored as series of their own. */
  series: Set<string>;
  /** The labels (canonical JSON) of this instance's overflow series of the metric, once there is one. */
  overflow: string | null;
  /** Folded label sets, with the last time each was seen. */
  foldedSets: Map<string, number>;
  /** `bucketKey \0 labels` -> the label set's last contribution to that minute. */
  contributions: Map<string, Contribution>;
  /** bucketKey -> the overflow row of that minute. */
  minutes: Map<string, FoldedMinute>;
}

interface InstanceState {
  key: string;
  token: string;
  instance: string;
  lastPush: number;
  bytes: Allowance;
  newSeries: Allowance;
  metrics: Map<string, MetricState>;
  /** Pushes of this instance run one after the other (folding reads and writes its minutes). */
  queue: Promise<unknown>;
}

interface TokenState {
  instances: Map<string, InstanceState>;
  bytes: Allowance;
  newSeries: Allowance;
  seriesPerMetric: Map<string, number>;
}

/** One limit hit during a push: the first of each kind is what the answer and the problem name. */
interface Hit {
  name: LimitName;
  value: number;
  retryAfterMs: number;
}

const bucketKey = (resolution: number, bucket: number) => `${resolution === HOUR_MS ? 'h' : 'm'}${bucket}`;

/** Whether every label value is `(overflow)` (a pusher's own overflow series). */
function isOverflow(labelsJson: string): boolean {
  const labels = parseLabels(labelsJson);
  const values = Object.values(labels);
  return values.length > 0 && values.every((v) => v === OVERFLOW);
}

function overflowLabels(labelsJson: string): string {
  const folded: Labels = {};
  for (const k of Object.keys(parseLabels(labelsJson))) folded[k] = OVERFLOW;
  return canonicalLabels(folded);
}

/** Admission control and storage of pushed rollups (see the module comment). */
export class PushAdmission {
  readonly #d: AdmissionDeps;
  readonly #tokens = new Map<string, TokenState>();
  /** pusher -> when it last hit a limit. */
  readonly #limited = new Map<string, number>();
  #sweptAt = 0;
  /** Rows folded into overflow series since start. */
  folded = 0;
  /** Rows not stored because a rate limit was reached (the pusher keeps and retries them). */
  rejected = 0;

  constructor(deps: AdmissionDeps) {
    this.#d = deps;
  }

  /** The limits in force. */
  get limits(): AdmissionLimits {
    return this.#d.limits;
  }

  /** Series (label sets) this process knows for a pushing instance's metric (0 when unknown). */
  seriesOf(token: string, instance: string, metric: string): number {
    return this.#tokens.get(token)?.instances.get(instance)?.metrics.get(metric)?.series.size ?? 0;
  }

  /** Instances of a token this process currently tracks. */
  instancesOf(token: string): number {
    return this.#tokens.get(token)?.instances.size ?? 0;
  }

  /**
   * Validates, admits and stores one push (`jsonBatch` of a JSON body, or a binary body's
   * `readPushRows`). `token` names the push token, `bytes` is the size of the request body. Throws
   * PRODMON_E_BAD_REQUEST for an invalid body.
   */
  async accept(token: string, header: PushBatch, bytes: number): Promise<PushOutcome> {
    const { instance } = header;
    if (instance === this.#d.ownInstance) {
      throw new ProdmonError(
        'PRODMON_E_BAD_REQUEST',
        `instance "${instance}" is this monitor's own id; give each pushing process its own (config: instance)`,
      );
    }
    const now = this.#d.clock.now();
    this.#sweep(now);
    const L = this.#d.limits;
    const pusher = `instance "${instance}" (token "${token}")`;
    if (header.count > L.maxRowsPerRequest) {
      return this.#limitedOutcome(pusher, instance, header.count, 0, 0, {
        name: LIMIT.rows,
        value: L.maxRowsPerRequest,
        retryAfterMs: 1000,
      });
    }
    const tok = this.#token(token, now);
    let st = tok.instances.get(instance);
    if (!st) {
      if (tok.instances.size >= L.token.maxInstances) {
        const oldest = Math.min(...[...tok.instances.values()].map((s) => s.lastPush));
        return this.#limitedOutcome(pusher, instance, header.count, 0, 0, {
          name: LIMIT.tokenInstances,
          value: L.token.maxInstances,
          retryAfterMs: Math.max(1000, oldest + INSTANCE_IDLE_MS - now),
        });
      }
      st = this.#newInstance(tok, token, instance, now);
    }
    const state = st;
    const run = state.queue.then(() => this.#accept(tok, state, pusher, header, bytes));
    state.queue = run.catch(() => {});
    return run;
  }

  /**
   * The `self` probe: degraded while a pusher has hit a limit within `problemClearAfterMs`, naming
   * each (and clearing those that have not since).
   */
  sweepProblems(now = this.#d.clock.now()): void {
    for (const [pusher, at] of this.#limited) {
      if (now - at >= this.#d.limits.problemClearAfterMs) {
        this.#limited.delete(pusher);
        this.#d.onProblem(pusher, null);
      }
    }
  }

  async #accept(
    tok: TokenState,
    st: InstanceState,
    pusher: string,
    header: PushBatch,
    bytes: number,
  ): Promise<PushOutcome> {
    const L = this.#d.limits;
    const now = this.#d.clock.now();
    st.lastPush = now;
    const n = header.count;
    // Bytes first: an instance or a token over its rate gets 429 before its rows cost anything more.
    for (const [a, name, value] of [
      [st.bytes, LIMIT.instanceBytes, L.instance.maxBytesPerSecond],
      [tok.bytes, LIMIT.tokenBytes, L.token.maxBytesPerSecond],
    ] as const) {
      if (a.level(now) < 0) {
        return this.#limitedOutcome(pusher, st.instance, n, 0, 0, {
          name,
          value,
          retryAfterMs: a.waitMs(now, 0) + 1,
        });
      }
    }
    st.bytes.spend(bytes);
    tok.bytes.spend(bytes);

    // Into the queue of sliced jobs at once: pushes that arrive together take turns from the start.
    const slicer = new Slicer();
    await slicer.yield();
    const rows = await header.rows(now, slicer);
    const direct: RollupRow[] = [];
    const folds: RollupRow[] = [];
    let hit: Hit | null = null;
    let rejected = 0;
    // The answer names the first rate limit hit (what the 429 is about), else the first series limit.
    const note = (h: Hit) => {
      const rate = h.name !== LIMIT.series && h.name !== LIMIT.tokenSeries;
      if (!hit || (rate && (hit.name === LIMIT.series || hit.name === LIMIT.tokenSeries))) hit = h;
    };
    let m = null as MetricState | null;
    for (let i = 0; i < rows.length; i++) {
      if (i % 64 === 63) await slicer.pause();
      const row = rows[i]!;
      // (the rows of a push share their metric: compared, not hashed again, from one row to the next)
      if (m === null || row.metric !== m.name) m = this.#metric(st, row.metric);
      if (m.series.has(row.labels)) {
        direct.push(row);
        continue;
      }
      const own = isOverflow(row.labels);
      const full = m.series.size >= L.maxSeriesPerMetric;
      const tokenFull = (tok.seriesPerMetric.get(row.metric) ?? 0) >= L.token.maxSeriesPerMetric;
      const fold = own || full || tokenFull;
      if (fold && !own) {
        note(
          full
            ? { name: LIMIT.series, value: L.maxSeriesPerMetric, retryAfterMs: 0 }
            : { name: LIMIT.tokenSeries, value: L.token.maxSeriesPerMetric, retryAfterMs: 0 },
        );
      }
      if (fold && m.foldedSets.has(row.labels)) {
        m.foldedSets.set(row.labels, now);
        folds.push(row);
        continue;
      }
      // A label set not seen before: it takes one from both new-series allowances.
      const lack = this.#newSeriesLack(st, tok, now);
      if (lack) {
        note(lack);
        rejected++;
        continue;
      }
      st.newSeries.spend(1);
      tok.newSeries.spend(1);
      if (fold) {
        m.foldedSets.set(row.labels, now);
        folds.push(row);
      } else {
        m.series.add(row.labels);
        tok.seriesPerMetric.set(row.metric, (tok.seriesPerMetric.get(row.metric) ?? 0) + 1);
        direct.push(row);
      }
    }

    // Every row as it came: the body is the journal record of them (binary bodies), not encoded again.
    const record = direct.length === rows.length ? header.record : null;
    if (direct.length > 0) await this.#d.upsert(direct, slicer, record);
    const foldedOwn = folds.filter((r) => !isOverflow(r.labels)).length;
    if (folds.length > 0) await this.#fold(st, folds, slicer);
    this.folded += foldedOwn;
    this.rejected += rejected;
    const stored = new Set<string>();
    for (const r of direct) stored.add(r.metric);
    for (const r of folds) stored.add(r.metric);
    if (stored.size > 0) this.#d.notifyData(stored);

    const accepted = direct.length + folds.length;
    const h = hit as Hit | null;
    if (h && rejected > 0) return this.#limitedOutcome(pusher, st.instance, n, accepted, foldedOwn, h);
    if (h) this.#problem(pusher, h);
    return {
      status: 200,
      body: { accepted, instance: st.instance, ...(foldedOwn > 0 ? { folded: foldedOwn } : {}) },
    };
  }

  /** Which new-series allowance is exhausted (instance first), or null. */
  #newSeriesLack(st: InstanceState, tok: TokenState, now: number): Hit | null {
    const L = this.#d.limits;
    if (st.newSeries.level(now) < 1) {
      return {
        name: LIMIT.instanceNew,
        value: L.instance.maxNewSeriesPerMinute,
        retryAfterMs: st.newSeries.waitMs(now, 1),
      };
    }
    if (tok.newSeries.level(now) < 1) {
      return {
        name: LIMIT.tokenNew,
        value: L.token.maxNewSeriesPerMinute,
        retryAfterMs: tok.newSeries.waitMs(now, 1),
      };
    }
    return null;
  }

  /** Folds rows into the instance's overflow series: each label set's growth since its last contribution. */
  async #fold(st: InstanceState, rows: RollupRow[], slicer: Slicer): Promise<void> {
    // Minutes are updated on copies, written, and only then kept: a failed write leaves them as they
    // were, so the pusher's retry adds its rows again instead of finding them already counted.
    const touched = new Map<
      string,
      { m: MetricState; metric: string; minute: FoldedMinute; key: string; labels: string }
    >();
    const contributions: [MetricState, string, Contribution][] = [];
    for (const row of rows) {
      const m = this.#metric(st, row.metric);
      m.overflow ??= overflowLabels(row.labels);
      const bk = bucketKey(row.resolution, row.bucket);
      const tkey = `${row.metric}\u0000${bk}`;
      let t = touched.get(tkey);
      if (!t) {
        const kept = m.minutes.get(bk) ?? (await this.#storedMinute(st.instance, row, m.overflow));
        t = { m, metric: row.metric, minute: copyMinute(kept), key: bk, labels: m.overflow };
        touched.set(tkey, t);
      }
      const ckey = `${bk}\u0000${row.labels}`;
      const prev = m.contributions.get(ckey);
      const minute = t.minute;
      if (prev && row.count === prev.count) continue; // the same version again: already counted
      const grown = prev && row.count > prev.count;
      const weight = grown ? (row.count - prev.count) / row.count : 1;
      minute.count += grown ? row.count - prev.count : row.count;
      minute.sum += grown ? row.sum - prev.sum : row.sum;
      minute.errors += Math.max(0, grown ? row.errors - prev.errors : row.errors);
      if (row.min < minute.min) minute.min = row.min;
      if (row.max > minute.max) minute.max = row.max;
      if (row.sketch) {
        let s: Sketch | null = null;
        try {
          s = decodeSketch(row.sketch);
        } catch {
          s = null; // validated on the way in; never happens
        }
        if (s) {
          if (weight !== 1) scaleSketch(s, weight);
          minute.sketch ??= emptySketch();
          sketchMerge(minute.sketch, s);
        }
      }
      contributions.push([m, ckey, { count: row.count, sum: row.sum, errors: row.errors }]);
      await slicer.pause();
    }
    const out: RollupRow[] = [];
    for (const { metric, minute, labels } of touched.values()) {
      out.push({
        metric,
        labels,
        instance: st.instance,
        resolution: minute.resolution,
        bucket: minute.bucket,
        count: minute.count,
        sum: minute.sum,
        min: minute.min,
        max: minute.max,
        errors: minute.errors,
        sketch: minute.sketch ? Buffer.from(encodeSketch(minute.sketch)) : null,
      });
    }
    const written = out.filter((r) => r.count > 0);
    if (written.length > 0) await this.#d.upsert(written, slicer);
    for (const { m, minute, key } of touched.values()) m.minutes.set(key, minute);
    for (const [m, ckey, c] of contributions) m.contributions.set(ckey, c);
  }

  /** The overflow row of a minute as stored (this process has not folded into it yet), or an empty one. */
  async #storedMinute(instance: string, row: RollupRow, labels: string): Promise<FoldedMinute> {
    const stored = await this.#d.stored({
      metric: row.metric,
      labels,
      instance,
      resolution: row.resolution,
      bucket: row.bucket,
    });
    const minute: FoldedMinute = { ...emptyStats(), resolution: row.resolution, bucket: row.bucket };
    if (stored && stored.count > 0) {
      minute.count = stored.count;
      minute.sum = stored.sum;
      minute.min = stored.min;
      minute.max = stored.max;
      minute.errors = stored.errors;
      if (stored.sketch) {
        try {
          minute.sketch = emptySketch();
          sketchMerge(minute.sketch, decodeSketch(stored.sketch));
        } catch {
          minute.sketch = null;
        }
      }
    }
    return minute;
  }

  #limitedOutcome(
    pusher: string,
    instance: string,
    rows: number,
    accepted: number,
    folded: number,
    h: Hit,
  ): PushOutcome {
    const retryAfterS = Math.max(1, Math.ceil(h.retryAfterMs / 1000));
    const notStored = rows - accepted;
    const what =
      h.name === LIMIT.rows
        ? `${rows} rows in one request`
        : h.name === LIMIT.tokenInstances
          ? 'a new instance'
          : h.name === LIMIT.instanceBytes || h.name === LIMIT.tokenBytes
            ? 'the request'
            : `${notStored} rows of series first seen`;
    const message =
      `push from ${pusher} over ${h.name} (${h.value}): ${what} not stored` +
      (accepted > 0
        ? ` (${accepted} rows stored${folded > 0 ? `, ${folded} of them folded into (overflow) series` : ''})`
        : '') +
      `; retry after ${retryAfterS} s`;
    this.#problem(pusher, h);
    return {
      status: 429,
      retryAfterS,
      limit: { name: h.name, value: h.value },
      body: {
        error: { code: 'PRODMON_E_LIMIT', message, limit: h.name, value: h.value, retryAfter: retryAfterS },
        instance,
        accepted,
        folded,
        rejected: notStored,
      },
    };
  }

  #problem(pusher: string, h: Hit): void {
    const now = this.#d.clock.now();
    this.#limited.set(pusher, now);
    const reason =
      h.name === LIMIT.series || h.name === LIMIT.tokenSeries
        ? `over ${h.name} (${h.value}): rows of further label sets are folded into (overflow) series`
        : `over ${h.name} (${h.value}): pushes answered 429`;
    this.#d.onProblem(pusher, reason);
  }

  #token(token: string, now: number): TokenState {
    let t = this.#tokens.get(token);
    if (!t) {
      const L = this.#d.limits.token;
      t = {
        instances: new Map(),
        bytes: new Allowance(L.maxBytesPerSecond * BYTES_BURST_S, L.maxBytesPerSecond / 1000, now),
        newSeries: new Allowance(L.maxNewSeriesPerMinute, L.maxNewSeriesPerMinute / MINUTE_MS, now),
        seriesPerMetric: new Map(),
      };
      this.#tokens.set(token, t);
    }
    return t;
  }

  #newInstance(tok: TokenState, token: string, instance: string, now: number): InstanceState {
    const L = this.#d.limits.instance;
    const st: InstanceState = {
      key: `${token}\u0000${instance}`,
      token,
      instance,
      lastPush: now,
      bytes: new Allowance(L.maxBytesPerSecond * BYTES_BURST_S, L.maxBytesPerSecond / 1000, now),
      newSeries: new Allowance(L.maxNewSeriesPerMinute, L.maxNewSeriesPerMinute / MINUTE_MS, now),
      metrics: new Map(),
      queue: Promise.resolve(),
    };
    tok.instances.set(instance, st);
    return st;
  }

  #metric(st: InstanceState, metric: string): MetricState {
    let m = st.metrics.get(metric);
    if (!m) {
      m = {
        name: metric,
        series: new Set(),
        overflow: null,
        foldedSets: new Map(),
        contributions: new Map(),
        minutes: new Map(),
      };
      st.metrics.set(metric, m);
    }
    return m;
  }

  /** Forgets idle instances and folded minutes past `FOLD_MEMORY_MS` (at most once a minute). */
  #sweep(now: number): void {
    this.sweepProblems(now);
    if (now - this.#sweptAt < MINUTE_MS) return;
    this.#sweptAt = now;
    const oldest = now - FOLD_MEMORY_MS;
    for (const tok of this.#tokens.values()) {
      for (const [name, st] of tok.instances) {
        if (now - st.lastPush >= INSTANCE_IDLE_MS) {
          tok.instances.delete(name);
          for (const [metric, m] of st.metrics) {
            tok.seriesPerMetric.set(metric, (tok.seriesPerMetric.get(metric) ?? 0) - m.series.size);
          }
          continue;
        }
        for (const m of st.metrics.values()) {
          for (const [k, minute] of m.minutes) if (minute.bucket < oldest) m.minutes.delete(k);
          for (const k of m.contributions.keys()) {
            const bucket = Number(k.slice(1, k.indexOf('\u0000')));
            if (bucket < oldest) m.contributions.delete(k);
          }
          for (const [labels, at] of m.foldedSets) if (at < oldest) m.foldedSets.delete(labels);
        }
      }
    }
  }
}

function copyMinute(m: FoldedMinute): FoldedMinute {
  let sketch: Sketch | null = null;
  if (m.sketch) {
    sketch = emptySketch();
    sketchMerge(sketch, m.sketch);
  }
  return { ...m, sketch };
}
