/**
 * Long periods (24 h, 7 d) read fast: whole hours the daily compaction has already turned into hourly
 * rows are read as such; the minute rows it has not reached yet (up to a day and more) are reduced
 * once into blocks as wide as the period's chart step (10 min for 24 h, an hour for 7 d), one entry
 * per series and block, and kept, so each later view reads a few thousand entries instead of tens of
 * thousands of minute rows, at the resolution its charts draw. Only blocks that ended more than the
 * compaction grace ago are kept (late flushes land before that); the rest is always read fresh.
 */
import { bucketStart, emptyStats, HOUR_MS, mergeStats, type RollupStats } from '../core/rollup.js';
import type { Sketch } from '../core/sketch.js';
import { COMPACTION_GRACE_MS } from '../metrics/maintenance.js';
import type { ReadRange, RollupEntry } from '../metrics/read.js';

/** Reads the entries of some metrics over a range (the metrics read path). */
export type EntryReader = (metrics: readonly string[], range: ReadRange) => Promise<RollupEntry[]>;

/** Merges entries into one entry per (metric, labels, instance) and `width`-wide block. */
export function reduceBlocks(
  entries: readonly RollupEntry[],
  width: number,
  withSketch: (metric: string) => boolean,
): Map<number, RollupEntry[]> {
  const groups = new Map<string, { first: RollupEntry; block: number; stats: RollupStats }>();
  for (const e of entries) {
    const block = bucketStart(e.bucket, width);
    const key = `${block}\u0000${e.metric}\u0000${e.labelsJson}\u0000${e.instance}`;
    let g = groups.get(key);
    if (!g) {
      g = { first: e, block, stats: emptyStats() };
      groups.set(key, g);
    }
    mergeStats(g.stats, e, withSketch(e.metric) ? e.sketch() : null);
  }
  const out = new Map<number, RollupEntry[]>();
  for (const { first, block, stats } of groups.values()) {
    if (stats.count <= 0) continue;
    const sketch: Sketch | null = stats.sketch;
    const list = out.get(block) ?? [];
    list.push({
      metric: first.metric,
      labelsJson: first.labelsJson,
      instance: first.instance,
      resolution: width,
      bucket: block,
      count: stats.count,
      sum: stats.sum,
      min: stats.min,
      max: stats.max,
      errors: stats.errors,
      sketch: () => sketch,
    });
    out.set(block, list);
  }
  return out;
}

/** What the cache needs. */
export interface HourCacheOptions {
  read: EntryReader;
  /** End of the last compacted hour (hourly rows exist before it). */
  compactedUntil(): Promise<number>;
  /** Metrics whose quantiles are read (their sketches are merged; others keep none). */
  withSketch(metric: string): boolean;
  /** Blocks kept, all widths together (default 800: a day of 10-minute blocks and 8 days of hours). */
  maxBlocks?: number;
}

/** Reductions of not-yet-compacted minute rows into blocks, kept for later views. */
export class HourCache {
  readonly #o: HourCacheOptions;
  readonly #blocks = new Map<string, Promise<RollupEntry[]>>();
  readonly #max: number;

  constructor(o: HourCacheOptions) {
    this.#o = o;
    this.#max = o.maxBlocks ?? 800;
  }

  /** Number of blocks held. */
  get size(): number {
    return this.#blocks.size;
  }

  #span(range: ReadRange, now: number, width: number): { from: number; until: number } {
    const from = Math.ceil(range.from / width) * width;
    const until = Math.min(bucketStart(range.until, width), bucketStart(now - COMPACTION_GRACE_MS, width));
    return { from, until };
  }

  /**
   * Every entry of `metrics` in `range` (as the read path gives them), with whole past blocks of
   * `width` (a divisor of an hour, or an hour) that are not compacted yet reduced.
   */
  async entries(
    metrics: readonly string[],
    range: ReadRange,
    now: number,
    width = HOUR_MS,
  ): Promise<RollupEntry[]> {
    const span = this.#span(range, now, width);
    if (span.until - span.from < 2 * width) return this.#o.read(metrics, range);
    const compacted = Math.min(
      span.until,
      Math.max(span.from, bucketStart(await this.#o.compactedUntil(), HOUR_MS)),
    );
    const parts: Promise<RollupEntry[]>[] = [];
    if (range.from < span.from) parts.push(this.#o.read(metrics, { from: range.from, until: span.from }));
    if (compacted > span.from) parts.push(this.#o.read(metrics, { from: span.from, until: compacted }));
    for (let b = compacted; b < span.until; b += width) parts.push(this.#block(metrics, b, width));
    if (span.until < range.until) parts.push(this.#o.read(metrics, { from: span.until, until: range.until }));
    return (await Promise.all(parts)).flat();
  }

  /**
   * Fills the cache for `range` at every width in `widths`, one hour of minute rows at a time (each
   * read once for all widths), newest first, with `pause` between hours so requests keep being served.
   */
  async warm(
    metrics: readonly string[],
    range: ReadRange,
    now: number,
    widths: readonly number[],
    pause: () => Promise<void>,
  ): Promise<void> {
    const span = this.#span(range, now, HOUR_MS);
    const compacted = Math.max(span.from, bucketStart(await this.#o.compactedUntil(), HOUR_MS));
    for (let h = span.until - HOUR_MS; h >= compacted; h -= HOUR_MS) {
      const missing = widths.filter((w) => {
        for (let b = h; b < h + HOUR_MS; b += w) if (!this.#blocks.has(this.#key(metrics, b, w))) return true;
        return false;
      });
      if (missing.length === 0) continue;
      const read = this.#o.read(metrics, { from: h, until: h + HOUR_MS });
      for (const w of missing) {
        const reduced = read.then((e) => reduceBlocks(e, w, this.#o.withSketch));
        for (let b = h; b < h + HOUR_MS; b += w) {
          this.#put(
            this.#key(metrics, b, w),
            reduced.then((m) => m.get(b) ?? []),
          );
        }
      }
      await read;
      await pause();
    }
  }

  #key(metrics: readonly string[], block: number, width: number): string {
    return `${width}\u0000${block}\u0000${metrics.join(',')}`;
  }

  #put(key: string, p: Promise<RollupEntry[]>): void {
    p.catch(() => this.#blocks.delete(key));
    this.#blocks.set(key, p);
    while (this.#blocks.size > this.#max) this.#blocks.delete(this.#blocks.keys().next().value!);
  }

  #block(metrics: readonly string[], block: number, width: number): Promise<RollupEntry[]> {
    const key = this.#key(metrics, block, width);
    const known = this.#blocks.get(key);
    if (known) {
      this.#blocks.delete(key); // most recently used last
      this.#blocks.set(key, known);
      return known;
    }
    const p = this.#o
      .read(metrics, { from: block, until: block + width })
      .then((e) => reduceBlocks(e, width, this.#o.withSketch).get(block) ?? []);
    this.#put(key, p);
    return p;
  }
}
