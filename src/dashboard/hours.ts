/**
 * Long periods (24 h, 7 d) read fast: whole hours the hourly compaction has turned into hourly rows
 * are read as such (all of them but the last one or two while the `compact` job runs); minute rows it
 * has not reached yet (the current hour, the last one during its grace, or more after the monitor was
 * down) are reduced once into blocks as wide as the period's chart step (10 min for 24 h, an hour for
 * 7 d), one entry per series and block, and kept, so each later view reads a few thousand entries
 * instead of tens of thousands of minute rows, at the resolution its charts draw. Only blocks that
 * ended more than the compaction grace ago are kept (late flushes land before that); the rest is
 * always read fresh.
 */

import { Slicer } from '../core/slice.js';
import { COMPACTION_GRACE_MS } from '../metrics/maintenance.js';
import { EntryMerger } from '../metrics/merge.js';
import type { ReadRange, RollupEntry } from '../metrics/read.js';
import { bucketStart, HOUR_MS } from '../metrics/rollup.js';

/** Reads the entries of some metrics over a range (the metrics read path). */
export type EntryReader = (metrics: readonly string[], range: ReadRange) => Promise<RollupEntry[]>;

/**
 * Merges entries into one entry per (metric, labels, instance) and `width`-wide block, in slices (an
 * hour of minute rows of a hub is a million entries: the event loop gets turns meanwhile).
 */
export async function reduceBlocks(
  entries: readonly RollupEntry[],
  width: number,
  withSketch: (metric: string) => boolean,
  slicer = new Slicer(),
): Promise<Map<number, RollupEntry[]>> {
  const merger = new EntryMerger();
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const block = bucketStart(e.bucket, width);
    merger.add(e.metric, e.instance, e.labelsJson, block, e, withSketch(e.metric), block, width);
    if (i % 256 === 255) await slicer.pause();
  }
  const out = new Map<number, RollupEntry[]>();
  for (const e of merger.entries()) {
    const list = out.get(e.bucket);
    if (list) list.push(e);
    else out.set(e.bucket, [e]);
  }
  return out;
}

/** Compacted hours read at a time (a day: a few thousand rows). */
const READ_CHUNK_MS = 24 * HOUR_MS;

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
    const parts = await this.parts(metrics, range, now, width);
    return (await Promise.all(parts.map((read) => read()))).flat();
  }

  /**
   * The same entries as {@link entries}, as reads to make one after the other: the compacted hours a
   * day at a time, so a caller that reduces each part as it comes never holds a week of rows at once.
   */
  async parts(
    metrics: readonly string[],
    range: ReadRange,
    now: number,
    width = HOUR_MS,
  ): Promise<(() => Promise<RollupEntry[]>)[]> {
    const read = (from: number, until: number) => () => this.#o.read(metrics, { from, until });
    const span = this.#span(range, now, width);
    if (span.until - span.from < 2 * width) return [read(range.from, range.until)];
    const compacted = Math.min(
      span.until,
      Math.max(span.from, bucketStart(await this.#o.compactedUntil(), HOUR_MS)),
    );
    const parts: (() => Promise<RollupEntry[]>)[] = [];
    if (range.from < span.from) parts.push(read(range.from, span.from));
    for (let a = span.from; a < compacted; a += READ_CHUNK_MS)
      parts.push(read(a, Math.min(compacted, a + READ_CHUNK_MS)));
    // Newest first: a compaction catching up after a restart goes oldest first, and any hour it has
    // done by the time it is read comes as hourly rows.
    for (let b = span.until - width; b >= compacted; b -= width)
      parts.push(() => this.#block(metrics, b, width));
    if (span.until < range.until) parts.push(read(span.until, range.until));
    return parts;
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
      .then(async (e) => (await reduceBlocks(e, width, this.#o.withSketch)).get(block) ?? []);
    this.#put(key, p);
    return p;
  }
}
