/**
 * Keeping rollups small over time: minute rows of whole hours are compacted into hourly rows (sketches
 * merged), then minute rows older than `metrics.retention` and hourly rows older than
 * `metrics.hourly_retention` are deleted. The cleanup job and `prodmon cleanup` call these.
 */
import {
  bucketStart,
  canonicalLabels,
  emptyStats,
  HOUR_MS,
  MINUTE_MS,
  mergeStats,
  parseLabels,
} from '../core/rollup.js';
import { decodeSketch, encodeSketch, type Sketch } from '../core/sketch.js';
import type { Store } from '../store/index.js';
import type { RollupRow } from '../store/repos/rollups.js';
import { COMPACTED_UNTIL_KEY } from './read.js';

/** How long after an hour ends it is compacted (late flushes and pushes still land in its minutes). */
export const COMPACTION_GRACE_MS = 5 * MINUTE_MS;
/** Hours before the watermark compacted again on each run, to take in rows that arrived late. */
const RECOMPACT_HOURS = 1;

/** What a compaction did. */
export interface CompactionResult {
  /** Hours compacted. */
  hours: number;
  /** Hourly rows written. */
  rows: number;
  /** End of the last compacted hour (the new watermark), or null when nothing was compacted. */
  until: number | null;
}

/** What retention removed (or, in a dry run, would remove). */
export interface RetentionResult {
  dryRun: boolean;
  minuteRows: number;
  hourlyRows: number;
  /** Oldest minute and hourly bucket kept. */
  minuteCutoff: number;
  hourlyCutoff: number;
  compaction: CompactionResult | null;
}

function mergeHour(rows: readonly RollupRow[], hour: number): RollupRow[] {
  const groups = new Map<string, { first: RollupRow; stats: ReturnType<typeof emptyStats> }>();
  for (const r of rows) {
    const key = `${r.metric}\u0000${r.labels}\u0000${r.instance}`;
    let g = groups.get(key);
    if (!g) {
      g = { first: r, stats: emptyStats() };
      groups.set(key, g);
    }
    let sketch: Sketch | null = null;
    if (r.sketch) {
      try {
        sketch = decodeSketch(r.sketch);
      } catch {
        sketch = null; // an unreadable sketch loses its quantiles, never the counts
      }
    }
    mergeStats(g.stats, r, sketch);
  }
  return [...groups.values()]
    .filter((g) => g.stats.count > 0)
    .map(({ first, stats }) => ({
      metric: first.metric,
      labels: canonicalLabels(parseLabels(first.labels)),
      instance: first.instance,
      resolution: HOUR_MS,
      bucket: hour,
      count: stats.count,
      sum: stats.sum,
      min: stats.min,
      max: stats.max,
      errors: stats.errors,
      sketch: stats.sketch ? encodeSketch(stats.sketch) : null,
    }));
}

/**
 * Writes an hourly row per (metric, labels, instance) for every whole hour that ended at least
 * {@link COMPACTION_GRACE_MS} ago and has minute rows, from the last watermark on (idempotent: hourly
 * rows are replaced). Returns what it did.
 */
export async function compact(
  store: Store,
  opts: { now: number; resolution?: number },
): Promise<CompactionResult> {
  const resolution = opts.resolution ?? MINUTE_MS;
  const end = bucketStart(opts.now - COMPACTION_GRACE_MS, HOUR_MS);
  const watermark = await store.state.get<number>(COMPACTED_UNTIL_KEY);
  const oldest = await store.rollups.oldestBucket(resolution);
  if (oldest === null) return { hours: 0, rows: 0, until: null };
  // Recompact the last hour(s) before the watermark, unless retention already took some of their minutes.
  const start =
    typeof watermark === 'number'
      ? Math.max(watermark - RECOMPACT_HOURS * HOUR_MS, Math.ceil(oldest / HOUR_MS) * HOUR_MS)
      : bucketStart(oldest, HOUR_MS);
  let hours = 0;
  let written = 0;
  for (let hour = start; hour + HOUR_MS <= end; hour += HOUR_MS) {
    const rows = await store.rollups.query({ resolution, since: hour, until: hour + HOUR_MS });
    hours++;
    if (rows.length === 0) continue;
    const hourly = mergeHour(rows, hour);
    await store.rollups.upsert(hourly);
    written += hourly.length;
  }
  if (end > (watermark ?? Number.NEGATIVE_INFINITY))
    await store.state.set(COMPACTED_UNTIL_KEY, end, opts.now);
  return { hours, rows: written, until: end };
}

/**
 * Deletes minute rows older than `retentionMs` and hourly rows older than `hourlyRetentionMs`. Unless
 * `dryRun`, whole hours are compacted first, so minute data never leaves before its hourly row exists.
 */
export async function applyRetention(
  store: Store,
  opts: {
    now: number;
    dryRun?: boolean;
    retentionMs: number;
    hourlyRetentionMs: number;
    resolution?: number;
  },
): Promise<RetentionResult> {
  const resolution = opts.resolution ?? MINUTE_MS;
  const minuteCutoff = bucketStart(opts.now - opts.retentionMs, resolution);
  const hourlyCutoff = bucketStart(opts.now - opts.hourlyRetentionMs, HOUR_MS);
  if (opts.dryRun) {
    return {
      dryRun: true,
      minuteRows: await store.rollups.countBefore(resolution, minuteCutoff),
      hourlyRows: await store.rollups.countBefore(HOUR_MS, hourlyCutoff),
      minuteCutoff,
      hourlyCutoff,
      compaction: null,
    };
  }
  const compaction = await compact(store, { now: opts.now, resolution });
  return {
    dryRun: false,
    minuteRows: await store.rollups.deleteBefore(resolution, minuteCutoff),
    hourlyRows: await store.rollups.deleteBefore(HOUR_MS, hourlyCutoff),
    minuteCutoff,
    hourlyCutoff,
    compaction,
  };
}
