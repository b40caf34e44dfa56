/** One recorded series (metric + labels) in memory: its open bucket and its totals since start. */

import type { Labels } from '../domain/labels.js';
import { binsRange, newSketch, releaseBins, type Sketch, sketchAdd, sketchSnapshot } from './sketch.js';

/** The bucket a series is currently filling. */
export interface OpenBucket {
  start: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  errors: number;
  sketch: Sketch;
  /** Bumped on every sample; equal to `flushedVersion` when the store has all of it. */
  version: number;
  flushedVersion: number;
  /** Whether a read was handed this bucket's sketch (see `Recorder.memoryBuckets`). */
  lent: boolean;
  /** A lent bucket's sketch as it was when its bins went to a later minute (see `Series.recycle`). */
  retired: Sketch | null;
}

/**
 * A new, empty bucket starting at `start`; `series` (when given) has its sketch's bins reserved over the
 * range the series' previous bucket grew to, in the bins array of a minute already written when the
 * series holds one (see `Series.recycle`).
 */
export function openBucket(start: number, series?: Series): OpenBucket {
  const spare = series?.spareBins ?? null;
  if (spare !== null) series!.spareBins = null;
  return {
    start,
    count: 0,
    sum: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    errors: 0,
    sketch: newSketch(series?.binsFrom, series?.binsLength, spare),
    version: 0,
    flushedVersion: 0,
    lent: false,
    retired: null,
  };
}

/** Adds one sample to a bucket. */
export function addToBucket(b: OpenBucket, value: number, error: boolean): void {
  b.count++;
  b.sum += value;
  if (value < b.min) b.min = value;
  if (value > b.max) b.max = value;
  if (error) b.errors++;
  sketchAdd(b.sketch, value);
  b.version++;
}

/** A metric with one set of label values. */
export class Series {
  readonly metric: string;
  readonly labels: Readonly<Labels>;
  /** Canonical JSON of the labels (the store's `labels` column). */
  readonly labelsJson: string;
  /** Whether this is the overflow series that absorbs label sets beyond the cap. */
  readonly overflow: boolean;
  cur: OpenBucket | null = null;
  /** Totals since the process started (for Prometheus counters). */
  totalCount = 0;
  totalSum = 0;
  totalErrors = 0;
  /** The last value recorded (for Prometheus gauges); NaN before the first. */
  last = Number.NaN;
  /** Upper bounds (ms) of the Prometheus histogram buckets, when this metric is exported as one. */
  readonly bounds: readonly number[] | null;
  /** Samples per histogram bucket (not cumulative); one more slot than bounds, for +Inf. */
  readonly bucketCounts: Float64Array | null;
  /** Which onData round last saw this series (so each round adds its metric once). */
  dataEpoch = -1;
  /** The bins range (first key, length) of the series' last closed bucket: its next bucket reserves it. */
  binsFrom = 0;
  binsLength = 0;
  /** The bins array of a written minute, for the next bucket (see `recycle`). */
  spareBins: Uint32Array | null = null;

  constructor(
    metric: string,
    labels: Labels,
    labelsJson: string,
    bounds: readonly number[] | null,
    overflow = false,
  ) {
    this.metric = metric;
    this.labels = Object.freeze({ ...labels });
    this.labelsJson = labelsJson;
    this.bounds = bounds;
    this.bucketCounts = bounds ? new Float64Array(bounds.length + 1) : null;
    this.overflow = overflow;
  }

  /** Remembers the bins range of a bucket that closes, for the series' next bucket. */
  rememberBins(b: OpenBucket): void {
    const [from, length] = binsRange(b.sketch);
    if (length === 0) return;
    this.binsFrom = from;
    this.binsLength = length;
  }

  /**
   * Takes the bins array of a closed bucket that nothing reads any more (written to the store and
   * forgotten, or closed empty or already written whole) for the series' next bucket. Without it every
   * series drops an array each minute: arrays outside V8's heap that die in its old generation and are
   * freed only by a full collection, which V8 starts on such memory late (tens of MB of it); with it a
   * series keeps two arrays (the open minute's and the one being written), whatever the minutes.
   * A bucket that a read was handed (`lent`) keeps a copy of its sketch first (`retired`, in V8's heap),
   * which the read then sees: one copy per lent minute, not one per read. Never for the open bucket
   * (`cur`), which goes on recording.
   */
  recycle(b: OpenBucket): void {
    if (b.lent && b.retired === null) b.retired = sketchSnapshot(b.sketch);
    const bins = releaseBins(b.sketch);
    if (bins !== null && (this.spareBins === null || bins.length > this.spareBins.length)) {
      this.spareBins = bins;
    }
  }

  /** Updates the totals, the last value and the histogram buckets. */
  addTotals(value: number, error: boolean): void {
    this.totalCount++;
    this.totalSum += value;
    if (error) this.totalErrors++;
    this.last = value;
    const bounds = this.bounds;
    if (bounds !== null) {
      let i = 0;
      const n = bounds.length;
      while (i < n && value > bounds[i]!) i++;
      const counts = this.bucketCounts!;
      counts[i] = counts[i]! + 1;
    }
  }
}
