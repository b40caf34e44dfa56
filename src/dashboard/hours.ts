/**
 * Long periods (24 h, 7 d) read fast: whole hours the daily compaction has already turned into hourly
 * rows are read as such; whole hours it has not reached yet (up to a day and more of minute rows) are
 * reduced to one entry per series and hour once, and kept, so each later view reads a few thousand
 * entries instead of tens of thousands of minute rows. Only hours that ended more than the compaction
 * grace ago are kept (late flushes land before that); the current hour is always read fresh.
 */
import { bucketStart, emptyStats, HOUR_MS, mergeStats, type RollupStats } from '../core/rollup.js';
import type { Sketch } from '../core/sketch.js';
import { COMPACTION_GRACE_MS } from '../metrics/maintenance.js';
import type { ReadRange, RollupEntry } from '../metrics/read.js';

/** Reads the entries of some metrics over a range (the metrics read path). */
export type EntryReader = (metrics: readonly string[], range: ReadRange) => Promise<RollupEntry[]>;

/** One series' hour, merged from its minute entries. */
function reduceHour(entries: readonly RollupEntry[], hour: number, withSketch: (metric: string) => boolean): RollupEntry[] {
  const groups = new Map<string, { first: RollupEntry; stats: RollupStats }>();
  for (const e of entries) {
    const key = `${e.metric}\u0000${e.labelsJson}\u0000${e.instance}`;
    let g = groups.get(key);
    if (!g) {
      g = { first: e, stats: emptyStats() };
      groups.set(key, g);
    }
    mergeStats(g.stats, e, withSketch(e.metric) ? e.sketch() : null);
  }
  return [...groups.values()]
    .filter((g) => g.stats.count > 0)
    .map(({ first, stats }) => {
      const sketch: Sketch | null = stats.sketch;
      return {
        metric: first.metric,
        labelsJson: first.labelsJson,
        instance: first.instance,
        resolution: HOUR_MS,
        bucket: hour,
        count: stats.count,
        sum: stats.sum,
        min: stats.min,
        max: stats.max,
        errors: stats.errors,
        sketch: () => sketch,
      };
    });
}

/** What the cache needs. */
export interface HourCacheOptions {
  read: EntryReader;
  /** End of the last compacted hour (hourly rows exist before it). */
  compactedUntil(): Promise<number>;
  /** Metrics whose quantiles are read (their sketches are merged; others keep none). */
  withSketch(metric: string): boolean;
  /** Hours kept (default 8 days' worth). */
  maxHours?: number;
}

/** Per-hour reductions of not-yet-compacted minute rows. */
export class HourCache {
  readonly #o: HourCacheOptions;
  readonly #hours = new Map<string, Promise<RollupEntry[]>>();
  readonly #max: number;

  constructor(o: HourCacheOptions) {
    this.#o = o;
    this.#max = o.maxHours ?? 24 * 8;
  }

  /** Number of hours held. */
  get size(): number {
    return this.#hours.size;
  }

  /** Every entry of `metrics` in `range` (as the read path gives them), with whole past hours reduced. */
  async entries(metrics: readonly string[], range: ReadRange, now: number): Promise<RollupEntry[]> {
    const hFrom = Math.ceil(range.from / HOUR_MS) * HOUR_MS;
    const hUntil = Math.min(bucketStart(range.until, HOUR_MS), bucketStart(now - COMPACTION_GRACE_MS, HOUR_MS));
    if (hUntil - hFrom < 2 * HOUR_MS) return this.#o.read(metrics, range);
    const compacted = Math.min(hUntil, Math.max(hFrom, bucketStart(await this.#o.compactedUntil(), HOUR_MS)));
    const parts: Promise<RollupEntry[]>[] = [];
    if (range.from < hFrom) parts.push(this.#o.read(metrics, { from: range.from, until: hFrom }));
    if (compacted > hFrom) parts.push(this.#o.read(metrics, { from: hFrom, until: compacted }));
    for (let h = compacted; h < hUntil; h += HOUR_MS) parts.push(this.#hour(metrics, h));
    if (hUntil < range.until) parts.push(this.#o.read(metrics, { from: hUntil, until: range.until }));
    return (await Promise.all(parts)).flat();
  }

  #hour(metrics: readonly string[], hour: number): Promise<RollupEntry[]> {
    const key = `${hour}\u0000${metrics.join(',')}`;
    const known = this.#hours.get(key);
    if (known) {
      this.#hours.delete(key); // most recently used last
      this.#hours.set(key, known);
      return known;
    }
    const p = this.#o.read(metrics, { from: hour, until: hour + HOUR_MS }).then((e) => reduceHour(e, hour, this.#o.withSketch));
    p.catch(() => this.#hours.delete(key));
    this.#hours.set(key, p);
    while (this.#hours.size > this.#max) this.#hours.delete(this.#hours.keys().next().value!);
    return p;
  }
}
