/**
 * The recorder: aggregates samples in memory into per-minute rollups per (metric, labels), hands the
 * changed ones to the flusher in batches, keeps unflushed ones (bounded) until a flush succeeds, and
 * tells listeners which metrics received data.
 */
import type { Clock } from '../core/clock.js';
import { Trigger } from '../core/trigger.js';
import type { Labels } from '../domain/labels.js';
import type { RollupRow } from '../domain/rollup.js';
import { canonicalLabels, MINUTE_MS } from './rollup.js';
import { addToBucket, type OpenBucket, openBucket, Series } from './series.js';
import { encodeSketch, type Sketch } from './sketch.js';
import { EncodeArena } from './sketch-proto.js';

/** Label value of the series that absorbs label sets beyond `maxSeries`. */
export const OVERFLOW = '(overflow)';

/** What the recorder needs. */
export interface RecorderOptions {
  clock: Clock;
  /** This process's instance id (the `instance` column). */
  instance: string;
  /** Cap on distinct label sets per metric; further ones fold into one overflow series. */
  maxSeries: number;
  /** Bucket width (default one minute). */
  resolution?: number;
  /** Closed buckets kept while the store cannot be written; the oldest are dropped beyond this. */
  maxBufferedRows?: number;
  /** Upper bounds (ms) of the Prometheus histogram buckets, per metric exported as a histogram. */
  histograms?: Readonly<Record<string, readonly number[]>>;
  /**
   * The coalescing window of onData calls (ms; default {@link DATA_WINDOW_MS}), or a function read as
   * each window opens: data after a quiet period is announced at once, what follows within the window
   * at its end, together (see `Trigger`).
   */
  dataWindowMs?: number | (() => number);
}

/** Default coalescing window of data announcements (the default of `alerting.coalesce_window`). */
export const DATA_WINDOW_MS = 25;

/**
 * The buckets to write, and what to do once they are written. A bucket becomes a row (its sketch
 * encoded) only when asked for: a flush takes them `chunks` at a time, so the encoded sketches of a
 * thousand series never sit in memory all at once.
 */
export interface FlushBatch {
  /** Number of rows in the batch. */
  readonly size: number;
  /**
   * The rows, a chunk at a time; an open bucket is read as it is when its chunk is made. A chunk's
   * sketches are views into the recorder's encoding memory, written over by the next chunk (or the
   * next flush): whatever keeps rows longer than that copies them (the push keeps base64 text).
   */
  chunks(size: number): Iterable<RollupRow[]>;
  /** Every row at once (each sketch in a Buffer of its own). */
  readonly rows: RollupRow[];
  /** Marks the rows made as stored: closed buckets leave memory, open ones become clean. */
  commit(): void;
  /**
   * Leaves the chunks made so far their memory: later chunks are encoded elsewhere. For a write that
   * failed, whose driver may still hold the bytes (a statement queued behind a dead connection).
   */
  detach(): void;
}

/** A bucket held for a flush: closed (its minute is over) or open with new samples; encoded only when written. */
interface HeldBucket {
  series: Series;
  bucket: OpenBucket;
}

/** A bucket held in memory, as the read path merges it with stored rows. */
export interface MemoryBucket {
  metric: string;
  labelsJson: string;
  bucket: number;
  row: Omit<RollupRow, 'sketch'>;
  /**
   * The bucket's sketch: the recording one while the bucket holds its bins (an open bucket's goes on
   * changing, as its counts do not), then the copy kept when the bins went to a later minute.
   */
  sketch: () => Sketch;
}

/** Listener of new data: the set of metric names that received samples. */
export type DataListener = (metrics: ReadonlySet<string>) => void;

interface MetricSeries {
  byLabels: Map<string, Series>;
  overflow: Series | null;
}

/** In-memory per-minute rollups. */
export class Recorder {
  readonly instance: string;
  readonly resolution: number;
  readonly maxSeries: number;
  /** Label sets folded into overflow series since start. */
  overflowed = 0;
  /** Closed buckets dropped because the buffer was full (store unreachable for long). */
  dropped = 0;
  readonly #clock: Clock;
  readonly #maxBuffered: number;
  readonly #histograms: Readonly<Record<string, readonly number[]>>;
  readonly #metrics = new Map<string, MetricSeries>();
  #closed: HeldBucket[] = [];
  readonly #listeners = new Set<DataListener>();
  #pendingData = new Set<string>();
  #epoch = 0;
  /** Announces data to the listeners: at once after a quiet period, then once per window. */
  readonly #dataTrigger: Trigger;
  #stopped = false;
  /** Where flushes encode sketches (see `EncodeArena`); made on the first flush. */
  #arena: EncodeArena | null = null;

  constructor(opts: RecorderOptions) {
    this.#clock = opts.clock;
    this.instance = opts.instance;
    this.maxSeries = opts.maxSeries;
    this.resolution = opts.resolution ?? MINUTE_MS;
    this.#maxBuffered = opts.maxBufferedRows ?? 20_000;
    this.#histograms = opts.histograms ?? {};
    this.#dataTrigger = new Trigger({
      clock: opts.clock,
      windowMs: opts.dataWindowMs ?? DATA_WINDOW_MS,
      run: () => this.#deliverData(),
    });
  }

  /** The series of (metric, labels), created on first use; beyond the cap, the metric's overflow series. */
  series(metric: string, labels: Labels): Series {
    let m = this.#metrics.get(metric);
    if (!m) {
      m = { byLabels: new Map(), overflow: null };
      this.#metrics.set(metric, m);
    }
    const key = canonicalLabels(labels);
    const found = m.byLabels.get(key);
    if (found) return found;
    const bounds = this.#histograms[metric] ?? null;
    if (m.byLabels.size >= this.maxSeries) {
      this.overflowed++;
      if (!m.overflow) {
        const folded: Labels = {};
        for (const k of Object.keys(labels)) folded[k] = OVERFLOW;
        m.overflow = new Series(metric, folded, canonicalLabels(folded), bounds, true);
      }
      return m.overflow;
    }
    const s = new Series(metric, labels, key, bounds);
    m.byLabels.set(key, s);
    return s;
  }

  /** Records one sample (a duration in ms, a percentage, bytes...) into a series. */
  observe(s: Series, value: number, error = false, now = this.#clock.now()): void {
    if (!(value >= 0)) value = 0; // NaN and negatives: a clock step backwards, never a real value
    let b = s.cur;
    // Fast path: still inside the open bucket (a sample from before it, after a clock step back, joins it).
    if (b === null || now >= b.start + this.resolution) {
      if (b !== null) this.#close(s, b);
      b = openBucket(now - (now % this.resolution), s);
      s.cur = b;
    }
    addToBucket(b, value, error);
    s.addTotals(value, error);
    if (this.#listeners.size > 0 && s.dataEpoch !== this.#epoch) this.#markData(s);
  }

  /** Records one sample by metric and labels (looks the series up; prefer `series` + `observe` when hot). */
  record(metric: string, labels: Labels, value: number, error = false): void {
    this.observe(this.series(metric, labels), value, error);
  }

  /** Every series of a metric (or of all), the overflow series included. */
  *allSeries(metric?: string): Iterable<Series> {
    const list = metric === undefined ? this.#metrics.values() : [this.#metrics.get(metric)].values();
    for (const m of list) {
      if (!m) continue;
      yield* m.byLabels.values();
      if (m.overflow) yield m.overflow;
    }
  }

  /** Number of distinct series of a metric (the overflow one included). */
  seriesCount(metric: string): number {
    const m = this.#metrics.get(metric);
    return m ? m.byLabels.size + (m.overflow ? 1 : 0) : 0;
  }

  /** Closed buckets waiting for a successful flush. */
  get buffered(): number {
    return this.#closed.length;
  }

  /**
   * The rows that changed since the last successful flush: closed buckets (their minute is over) and
   * the open buckets with new samples. Nothing is forgotten until `commit` is called.
   */
  collect(now = this.#clock.now()): FlushBatch {
    const res = this.resolution;
    for (const s of this.allSeries()) {
      if (s.cur && s.cur.start + res <= now) {
        this.#close(s, s.cur);
        s.cur = null;
      }
    }
    const closed = this.#closed.slice();
    const open: HeldBucket[] = [];
    for (const s of this.allSeries()) {
      const b = s.cur;
      if (b && b.count > 0 && b.version !== b.flushedVersion) open.push({ series: s, bucket: b });
    }
    /** Version of each open bucket as its row was made (what a commit marks as stored). */
    const made: [OpenBucket, number][] = [];
    const row = (i: number, arena?: EncodeArena): RollupRow => {
      if (i < closed.length) return this.#row(closed[i]!.series, closed[i]!.bucket, true, arena);
      const { series, bucket } = open[i - closed.length]!;
      made.push([bucket, bucket.version]);
      return this.#row(series, bucket, true, arena);
    };
    const recorder = this;
    const size = closed.length + open.length;
    let all: RollupRow[] | null = null;
    return {
      size,
      *chunks(n: number) {
        for (let i = 0; i < size; i += n) {
          recorder.#arena ??= new EncodeArena();
          const arena = recorder.#arena;
          arena.reset();
          const chunk: RollupRow[] = [];
          for (let j = i; j < Math.min(size, i + n); j++) chunk.push(row(j, arena));
          yield chunk;
        }
      },
      get rows() {
        all ??= Array.from({ length: size }, (_, i) => row(i));
        return all;
      },
      commit: () => {
        const done = new Set(closed);
        this.#closed = this.#closed.filter((c) => !done.has(c));
        for (const c of closed) c.series.recycle(c.bucket); // written and forgotten: its bins serve again
        for (const [b, v] of made) if (v > b.flushedVersion) b.flushedVersion = v;
      },
      detach: () => {
        this.#arena = null;
      },
    };
  }

  /** Buckets held in memory (open and closed-but-unflushed) of some metrics, for merging on read. */
  *memoryBuckets(metrics?: ReadonlySet<string>): Iterable<MemoryBucket> {
    for (const { series: s, bucket: b } of this.#closed) {
      if (metrics && !metrics.has(s.metric)) continue;
      yield this.#memoryBucket(s, b);
    }
    for (const s of this.allSeries()) {
      if (metrics && !metrics.has(s.metric)) continue;
      const b = s.cur;
      if (!b || b.count === 0) continue;
      yield this.#memoryBucket(s, b);
    }
  }

  #memoryBucket(s: Series, b: OpenBucket): MemoryBucket {
    const { sketch: _, ...row } = this.#row(s, b, false);
    b.lent = true;
    return {
      metric: s.metric,
      labelsJson: s.labelsJson,
      bucket: b.start,
      row,
      sketch: () => b.retired ?? b.sketch,
    };
  }

  /**
   * Calls `listener` with the metrics that received samples: at once after a quiet period (at the end
   * of the current turn of the event loop), then at most once per window; returns an unsubscribe.
   */
  onData(listener: DataListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Announces data that arrived another way (pushed rollups, rows another instance stored) to the
   * onData listeners, through the same trigger as recorded samples.
   */
  notifyData(metrics: Iterable<string>): void {
    if (this.#listeners.size === 0 || this.#stopped) return;
    for (const m of metrics) this.#pendingData.add(m);
    this.#dataTrigger.fire();
  }

  /** Stops announcing data (what waits for the end of a window is dropped). */
  close(): void {
    this.#stopped = true;
    this.#dataTrigger.stop();
  }

  #markData(s: Series): void {
    if (this.#stopped) return;
    s.dataEpoch = this.#epoch;
    this.#pendingData.add(s.metric);
    this.#dataTrigger.fire();
  }

  #deliverData(): void {
    this.#epoch++;
    const metrics = this.#pendingData;
    this.#pendingData = new Set();
    if (metrics.size === 0) return;
    for (const l of this.#listeners) {
      try {
        l(metrics);
      } catch {
        // a listener's failure is its own; the recorder keeps going
      }
    }
  }

  #close(s: Series, b: OpenBucket): void {
    s.rememberBins(b);
    if (b.count === 0 || b.version === b.flushedVersion) {
      s.recycle(b); // empty, or already stored whole: nothing will read it again
      return;
    }
    if (this.#closed.length >= this.#maxBuffered) {
      this.#closed.shift();
      this.dropped++;
    }
    this.#closed.push({ series: s, bucket: b });
  }

  #row(s: Series, b: OpenBucket, withSketch = true, arena?: EncodeArena): RollupRow {
    return {
      metric: s.metric,
      labels: s.labelsJson,
      instance: this.instance,
      resolution: this.resolution,
      bucket: b.start,
      count: b.count,
      sum: b.sum,
      min: b.min,
      max: b.max,
      errors: b.errors,
      sketch: withSketch ? encodeSketch(b.sketch, arena) : null,
    };
  }
}
