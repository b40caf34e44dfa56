/**
 * Reading rollups: the stored rows of every instance merged with this process's unflushed buckets
 * (memory wins for this instance's buckets it still holds, so nothing counts twice), hourly rows for
 * whole hours already compacted, and grouping/aggregation over a window.
 */
import type { WindowValue } from '../alerting/sources.js';
import { Slicer } from '../core/slice.js';
import type { Labels } from '../domain/labels.js';
import type { BucketFigures, RollupRow } from '../domain/rollup.js';
import type { Store } from '../store/index.js';
import type { MemoryBucket, Recorder } from './recorder.js';
import {
  type Aggregation,
  aggregate,
  bucketStart,
  emptyStats,
  HOUR_MS,
  MINUTE_MS,
  mergeStats,
  parseLabels,
  type RollupStats,
} from './rollup.js';
import { decodeSketch, type Sketch, SketchSum } from './sketch.js';

/** State key of the end of the last compacted hour (all hours before it have hourly rows). */
export const COMPACTED_UNTIL_KEY = 'metrics.compacted_until';

/** One bucket of one series of one instance, whatever its source. */
export interface RollupEntry extends BucketFigures {
  metric: string;
  labelsJson: string;
  instance: string;
  /** The sketch, decoded on demand (null when the bucket has none or it cannot be read). */
  sketch(): Sketch | null;
  /** The stored bytes of the sketch, when the entry is a stored row (merges add them without decoding). */
  sketchBytes?: Uint8Array | null;
  /**
   * A sum of sketches that goes on changing (a kept minute's label set as rows come): groupings add
   * its bins as they are at that moment, without a sketch made of them; `sketch()` gives them as they
   * are when it is called.
   */
  sketchSum?: SketchSum | null;
}

/** What reads need. */
export interface ReadSource {
  store: Store | null;
  recorder: Recorder;
}

/** The range actually covered: bucket starts in [from, until), `from` aligned down to the minute. */
export interface ReadRange {
  from: number;
  until: number;
}

function lazySketch(raw: Buffer | Uint8Array | Sketch | (() => Sketch) | null): () => Sketch | null {
  if (raw === null) return () => null;
  if (typeof raw === 'function') return raw;
  if (!(raw instanceof Uint8Array)) return () => raw;
  let decoded: Sketch | null | undefined;
  return () => {
    if (decoded === undefined) {
      try {
        decoded = decodeSketch(raw);
      } catch {
        decoded = null;
      }
    }
    return decoded;
  };
}

/** An entry from a stored row (a literal of one shape: reads over many entries stay fast). */
export function entryFromRow(row: RollupRow): RollupEntry {
  return fromRow(row, row.sketch);
}

function fromRow(
  r: Omit<RollupRow, 'sketch'>,
  sketch: Buffer | Uint8Array | Sketch | (() => Sketch) | null,
  labelsJson = r.labels,
): RollupEntry {
  return {
    metric: r.metric,
    labelsJson,
    instance: r.instance,
    resolution: r.resolution,
    bucket: r.bucket,
    count: r.count,
    sum: r.sum,
    min: r.min,
    max: r.max,
    errors: r.errors,
    sketch: lazySketch(sketch),
    sketchBytes: sketch instanceof Uint8Array ? sketch : null,
  };
}

/** An entry of a bucket this process holds in memory (see `Recorder.memoryBuckets`). */
export function memoryEntry(m: MemoryBucket): RollupEntry {
  return fromRow(m.row, m.sketch, m.labelsJson);
}

/** The range of buckets a window [since, until) reads. */
export function readRange(since: number, until: number): ReadRange {
  return { from: bucketStart(since, MINUTE_MS), until };
}

/**
 * Every bucket of `metrics` in the window, from all instances: stored minute rows, this process's
 * in-memory buckets in their place, and hourly rows for whole hours already compacted; in pages (see
 * `RollupRepo.pages`), yielding to the event loop between them (`slicer`), so that reading an hour of
 * 20,000 series never holds it. A page may be dropped once read: only the current one is in memory.
 */
export async function* readEntryPages(
  src: ReadSource,
  metrics: readonly string[],
  range: ReadRange,
  slicer = new Slicer(),
): AsyncGenerator<RollupEntry[]> {
  const { from, until } = range;
  const wanted = new Set(metrics);
  // Hourly rows for whole hours inside the window that compaction has covered.
  let hourFrom = Math.ceil(from / HOUR_MS) * HOUR_MS;
  let hourUntil = bucketStart(until, HOUR_MS);
  if (src.store && hourUntil - hourFrom >= HOUR_MS) {
    const watermark = (await src.store.state.get<number>(COMPACTED_UNTIL_KEY)) ?? 0;
    hourUntil = Math.min(hourUntil, bucketStart(watermark, HOUR_MS));
  } else {
    hourUntil = hourFrom;
  }
  if (hourUntil <= hourFrom) hourFrom = hourUntil = from;
  const minuteRanges: [number, number][] = [
    [from, hourFrom],
    [hourUntil, until],
  ].filter(([a, b]) => b! > a!) as [number, number][];
  if (hourUntil > hourFrom && src.store) {
    const q = { metrics: [...metrics], resolution: HOUR_MS, since: hourFrom, until: hourUntil };
    for await (const rows of src.store.rollups.pages(q, undefined, slicer)) {
      yield rows.map((r) => fromRow(r, r.sketch));
      await slicer.pause();
    }
  }

  const inRange = (b: number) => minuteRanges.some(([a, z]) => b >= a && b < z);
  const memory = new Map<string, RollupEntry>();
  for (const m of src.recorder.memoryBuckets(wanted)) {
    if (!inRange(m.bucket)) continue;
    memory.set(`${m.metric}\u0000${m.labelsJson}\u0000${m.bucket}`, memoryEntry(m));
  }
  if (src.store) {
    const own = src.recorder.instance;
    for (const [a, z] of minuteRanges) {
      const q = { metrics: [...metrics], resolution: src.recorder.resolution, since: a, until: z };
      for await (const rows of src.store.rollups.pages(q, undefined, slicer)) {
        const page: RollupEntry[] = [];
        for (const r of rows) {
          if (r.instance === own && memory.has(`${r.metric}\u0000${r.labels}\u0000${r.bucket}`)) continue;
          page.push(fromRow(r, r.sketch));
        }
        yield page;
        await slicer.pause();
      }
    }
  }
  if (memory.size > 0) yield [...memory.values()];
}

/** Every bucket of `metrics` in the window, all at once (see `readEntryPages`). */
export async function readEntries(
  src: ReadSource,
  metrics: readonly string[],
  range: ReadRange,
  slicer = new Slicer(),
): Promise<RollupEntry[]> {
  const out: RollupEntry[] = [];
  for await (const page of readEntryPages(src, metrics, range, slicer)) {
    for (const e of page) out.push(e);
  }
  return out;
}

/** Whether an entry's labels contain every pair of `filter`. */
function matches(labels: Labels, filter: Labels | undefined): boolean {
  if (!filter) return true;
  for (const k in filter) if (labels[k] !== filter[k]) return false;
  return true;
}

/** A group of merged buckets. */
export interface Group {
  labels: Labels;
  stats: RollupStats;
}

/** What groups entries: which metric, a label filter, the grouping labels, whether quantiles are read. */
export interface GroupOptions {
  metric?: string;
  filter?: Labels;
  groupBy?: readonly string[];
  withSketch: boolean;
}

/** The grouping of a window query: its metric, label filter and groups; sketches for quantiles. */
export function windowGroupOptions(q: {
  metric: string;
  labels?: Labels;
  groupBy?: readonly string[];
  aggregation: Aggregation;
}): GroupOptions {
  return { metric: q.metric, filter: q.labels, groupBy: q.groupBy, withSketch: readsSketch(q.aggregation) };
}

/**
 * Entries merged into groups by the values of `groupBy` (missing labels group as ''), after keeping
 * only those whose labels match `filter`, as they come (a page at a time: nothing but the groups is
 * kept). Stored sketches are added from their bytes (`SketchSum`), never decoded one by one. Without
 * `groupBy` there is one group, even when empty.
 */
export class EntryGroups {
  readonly #o: GroupOptions;
  readonly #by: readonly string[];
  /** Labels by their JSON, with the key of their group (null: the filter leaves them out). */
  readonly #parsed: Map<string, { labels: Labels; key: string } | null>;
  readonly #groups = new Map<string, { labels: Labels; stats: RollupStats; sum: SketchSum | null }>();

  constructor(opts: GroupOptions, parsed = new Map<string, { labels: Labels; key: string } | null>()) {
    this.#o = opts;
    this.#parsed = parsed;
    this.#by = opts.groupBy ?? [];
    if (this.#by.length === 0) {
      this.#groups.set('', { labels: { ...opts.filter }, stats: emptyStats(), sum: null });
    }
  }

  /** Merges some entries in. */
  add(entries: readonly RollupEntry[]): void {
    const o = this.#o;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (o.metric !== undefined && e.metric !== o.metric) continue;
      let parsed = this.#parsed.get(e.labelsJson);
      if (parsed === undefined) {
        const labels = parseLabels(e.labelsJson);
        let key = '';
        for (const k of this.#by) key += `${labels[k] ?? ''}\u0000`;
        parsed = matches(labels, o.filter) ? { labels, key } : null;
        this.#parsed.set(e.labelsJson, parsed);
      }
      if (parsed === null) continue;
      let g = this.#groups.get(parsed.key);
      if (!g) {
        const gl: Labels = { ...o.filter };
        for (const k of this.#by) gl[k] = parsed.labels[k] ?? '';
        g = { labels: gl, stats: emptyStats(), sum: null };
        this.#groups.set(parsed.key, g);
      }
      if (e.count <= 0) continue;
      mergeStats(g.stats, e);
      if (!o.withSketch) continue;
      if (e.sketchSum) {
        g.sum ??= new SketchSum();
        g.sum.addSum(e.sketchSum);
      } else if (e.sketchBytes) {
        g.sum ??= new SketchSum();
        g.sum.addBytes(e.sketchBytes);
      } else {
        const sketch = e.sketch();
        if (sketch && sketch.count > 0) {
          g.sum ??= new SketchSum();
          g.sum.addSketch(sketch);
        }
      }
    }
  }

  /**
   * Groups of their own with what these hold so far, to add more to (these stay as they are): the
   * settled minutes of a window are grouped once and each evaluation adds the minutes still filling to
   * a clone. The labels parsed so far (and their groups' keys) are shared: they never change.
   */
  clone(): EntryGroups {
    const c = new EntryGroups(this.#o, this.#parsed);
    c.#groups.clear();
    for (const [k, g] of this.#groups) {
      c.#groups.set(k, { labels: { ...g.labels }, stats: { ...g.stats }, sum: g.sum?.clone() ?? null });
    }
    return c;
  }

  /** The groups (call once, when every entry is in). */
  groups(): Group[] {
    const out: Group[] = [];
    for (const g of this.#groups.values()) {
      if (g.sum) g.stats.sketch = g.sum.toSketch();
      out.push({ labels: g.labels, stats: g.stats });
    }
    return out;
  }
}

/** Merges entries into groups (see `EntryGroups`). */
export function groupEntries(entries: readonly RollupEntry[], opts: GroupOptions): Group[] {
  const groups = new EntryGroups(opts);
  groups.add(entries);
  return groups.groups();
}

/** Whether an aggregation reads quantiles (the sketches). */
export function readsSketch(aggregation: Aggregation): boolean {
  return ['p50', 'p90', 'p95', 'p99'].includes(aggregation);
}

/** The value of each group over a window (see `aggregate` for what each aggregation means). */
export function windowFromGroups(
  groups: readonly Group[],
  aggregation: Aggregation,
  range: ReadRange,
): WindowValue[] {
  const windowMs = Math.max(0, range.until - range.from);
  return groups.map((g) => ({
    labels: g.labels,
    value: aggregate(g.stats, aggregation, windowMs),
    count: g.stats.count,
    errors: g.stats.errors,
  }));
}

/** The value of each group of `entries` over a window (see `windowFromGroups`). */
export function windowFromEntries(
  entries: readonly RollupEntry[],
  q: { metric: string; labels?: Labels; groupBy?: readonly string[]; aggregation: Aggregation },
  range: ReadRange,
): WindowValue[] {
  const groups = groupEntries(entries, windowGroupOptions(q));
  return windowFromGroups(groups, q.aggregation, range);
}
