/**
 * Merging rollup entries by a key: compaction (an hour of minute rows into an hourly row per series),
 * the dashboard's blocks of minute rows and its views. Stored sketches are added from their bytes
 * (see `SketchSum`), never decoded one by one, and the key is looked up part by part, so merging tens
 * of thousands of entries costs little more than reading them.
 */

import type { RollupEntry } from './read.js';
import { emptyStats, mergeStats, type RollupStats } from './rollup.js';
import { SketchSum } from './sketch.js';

/** A group being merged. */
interface Group {
  metric: string;
  labelsJson: string;
  instance: string;
  bucket: number;
  resolution: number;
  /** Count, sum, min, max and errors (its `sketch` stays null: sketches go to `sum`). */
  stats: RollupStats;
  sketch: SketchSum | null;
}

/**
 * Entries merged by a key of four parts (a metric, two strings, a number): one entry per key, with the
 * stats and the sum of the sketches of all it got (stored sketches added from their bytes, never
 * decoded one by one). The key is looked up part by part: no string is built per entry.
 */
export class EntryMerger {
  readonly #index = new Map<string, Map<string, Map<string, Map<number, Group>>>>();
  readonly #groups: Group[] = [];

  /** Number of groups. */
  get size(): number {
    return this.#groups.length;
  }

  /**
   * Merges `e` (with its sketch when `withSketch`) into the group of (`metric`, `a`, `b`, `n`), which
   * starts as `e` at `bucket` with `resolution` (and `labelsJson`, `instance` when given).
   */
  add(
    metric: string,
    a: string,
    b: string,
    n: number,
    e: RollupEntry,
    withSketch: boolean,
    bucket: number,
    resolution: number,
    labelsJson = e.labelsJson,
    instance = e.instance,
  ): void {
    let byA = this.#index.get(metric);
    if (!byA) {
      byA = new Map();
      this.#index.set(metric, byA);
    }
    let byB = byA.get(a);
    if (!byB) {
      byB = new Map();
      byA.set(a, byB);
    }
    let byN = byB.get(b);
    if (!byN) {
      byN = new Map();
      byB.set(b, byN);
    }
    let g = byN.get(n);
    if (!g) {
      g = {
        metric: e.metric,
        labelsJson,
        instance,
        bucket,
        resolution,
        stats: emptyStats(),
        sketch: null,
      };
      byN.set(n, g);
      this.#groups.push(g);
    }
    if (e.count <= 0) return;
    mergeStats(g.stats, e);
    if (!withSketch) return;
    // An unreadable sketch loses its quantiles, never the counts.
    if (e.sketchBytes) {
      g.sketch ??= new SketchSum();
      g.sketch.addBytes(e.sketchBytes);
    } else {
      const sketch = e.sketch();
      if (sketch) {
        g.sketch ??= new SketchSum();
        g.sketch.addSketch(sketch);
      }
    }
  }

  /** One entry per group (`withEmpty`: also those that got no samples). */
  entries(withEmpty = false): RollupEntry[] {
    const out: RollupEntry[] = [];
    for (const g of this.#groups) {
      const { count, sum, min, max, errors } = g.stats;
      if (count <= 0 && !withEmpty) continue;
      const sketch = g.sketch?.toSketch() ?? null;
      out.push({
        metric: g.metric,
        labelsJson: g.labelsJson,
        instance: g.instance,
        resolution: g.resolution,
        bucket: g.bucket,
        count,
        sum,
        min,
        max,
        errors,
        sketch: () => sketch,
      });
    }
    return out;
  }
}
