/**
 * Reading rollups: the stored rows of every instance merged with this process's unflushed buckets
 * (memory wins for this instance's buckets it still holds, so nothing counts twice), hourly rows for
 * whole hours already compacted, and grouping/aggregation over a window.
 */
import {
  type Aggregation,
  aggregate,
  type BucketFigures,
  bucketStart,
  emptyStats,
  HOUR_MS,
  MINUTE_MS,
  mergeStats,
  parseLabels,
  type RollupStats,
} from '../core/rollup.js';
import { decodeSketch, type Sketch } from '../core/sketch.js';
import type { Labels } from '../core/types.js';
import type { Store } from '../store/index.js';
import type { RollupRow } from '../store/repos/rollups.js';
import type { Recorder } from './recorder.js';

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

/** The range of buckets a window [since, until) reads. */
export function readRange(since: number, until: number): ReadRange {
  return { from: bucketStart(since, MINUTE_MS), until };
}

/**
 * Every bucket of `metrics` in the window, from all instances: stored minute rows, this process's
 * in-memory buckets in their place, and hourly rows for whole hours already compacted.
 */
export async function readEntries(
  src: ReadSource,
  metrics: readonly string[],
  range: ReadRange,
): Promise<RollupEntry[]> {
  const { from, until } = range;
  const wanted = new Set(metrics);
  const out: RollupEntry[] = [];
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
    const rows = await src.store.rollups.query({
      metrics: [...metrics],
      resolution: HOUR_MS,
      since: hourFrom,
      until: hourUntil,
    });
    for (const r of rows) out.push(fromRow(r, r.sketch));
  }

  const inRange = (b: number) => minuteRanges.some(([a, z]) => b >= a && b < z);
  const memory = new Map<string, RollupEntry>();
  for (const m of src.recorder.memoryBuckets(wanted)) {
    if (!inRange(m.bucket)) continue;
    memory.set(`${m.metric}\u0000${m.labelsJson}\u0000${m.bucket}`, fromRow(m.row, m.sketch, m.labelsJson));
  }
  if (src.store) {
    for (const [a, z] of minuteRanges) {
      const rows = await src.store.rollups.query({
        metrics: [...metrics],
        resolution: src.recorder.resolution,
        since: a,
        until: z,
      });
      for (const r of rows) {
        if (
          r.instance === src.recorder.instance &&
          memory.has(`${r.metric}\u0000${r.labels}\u0000${r.bucket}`)
        ) {
          continue;
        }
        out.push(fromRow(r, r.sketch));
      }
    }
  }
  out.push(...memory.values());
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

/**
 * Merges entries into groups by the values of `groupBy` (missing labels group as ''), after keeping
 * only those whose labels match `filter`. Without `groupBy` there is one group, even when empty.
 */
export function groupEntries(
  entries: readonly RollupEntry[],
  opts: { metric?: string; filter?: Labels; groupBy?: readonly string[]; withSketch: boolean },
): Group[] {
  const parsed = new Map<string, Labels>();
  const groups = new Map<string, Group>();
  const by = opts.groupBy ?? [];
  if (by.length === 0) groups.set('', { labels: { ...opts.filter }, stats: emptyStats() });
  for (const e of entries) {
    if (opts.metric !== undefined && e.metric !== opts.metric) continue;
    let labels = parsed.get(e.labelsJson);
    if (!labels) {
      labels = parseLabels(e.labelsJson);
      parsed.set(e.labelsJson, labels);
    }
    if (!matches(labels, opts.filter)) continue;
    let key = '';
    for (const k of by) key += `${labels[k] ?? ''}\u0000`;
    let g = groups.get(key);
    if (!g) {
      const gl: Labels = { ...opts.filter };
      for (const k of by) gl[k] = labels[k] ?? '';
      g = { labels: gl, stats: emptyStats() };
      groups.set(key, g);
    }
    mergeStats(g.stats, e, opts.withSketch ? e.sketch() : null);
  }
  return [...groups.values()];
}

/** What `windowValues` returns per group. */
export interface WindowValue {
  labels: Labels;
  value: number | null;
  count: number;
  errors: number;
}

/** The value of each group over a window (see `aggregate` for what each aggregation means). */
export function windowFromEntries(
  entries: readonly RollupEntry[],
  q: { metric: string; labels?: Labels; groupBy?: readonly string[]; aggregation: Aggregation },
  range: ReadRange,
): WindowValue[] {
  const withSketch = ['p50', 'p90', 'p95', 'p99'].includes(q.aggregation);
  const groups = groupEntries(entries, {
    metric: q.metric,
    filter: q.labels,
    groupBy: q.groupBy,
    withSketch,
  });
  const windowMs = Math.max(0, range.until - range.from);
  return groups.map((g) => ({
    labels: g.labels,
    value: aggregate(g.stats, q.aggregation, windowMs),
    count: g.stats.count,
    errors: g.stats.errors,
  }));
}
