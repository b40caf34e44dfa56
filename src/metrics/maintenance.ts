/**
 * Keeping rollups small over time: minute rows of whole hours are compacted into hourly rows (sketches
 * merged), then minute rows older than `metrics.retention` and hourly rows older than
 * `metrics.hourly_retention` are deleted. The hourly `compact` job compacts; the cleanup job and
 * `prodmon cleanup` apply retention (compacting first).
 */

import type { RollupRow } from '../domain/rollup.js';
import type { Repos, Store } from '../store/index.js';
import { EntryMerger } from './merge.js';
import { COMPACTED_UNTIL_KEY, entryFromRow } from './read.js';
import { bucketStart, canonicalLabels, HOUR_MS, MINUTE_MS, parseLabels } from './rollup.js';
import { encodeSketch } from './sketch.js';

/** How long after an hour ends it is compacted (late flushes and pushes still land in its minutes). */
export const COMPACTION_GRACE_MS = 5 * MINUTE_MS;
/**
 * How far back before the watermark each run looks for hours whose minute rows changed after they were
 * compacted (a push buffered while the link was down, a flush that came late): their minute totals
 * no longer match their hourly rows, so they are compacted again.
 */
export const LATE_ROWS_LOOKBACK_MS = 6 * HOUR_MS;

/** What a compaction did. */
export interface CompactionResult {
  /** Hours compacted (new ones and ones compacted again). */
  hours: number;
  /** Of those, hours compacted again because rows arrived after their first compaction. */
  recompacted: number;
  /** Hourly rows written. */
  rows: number;
  /** End of the last compacted hour (the new watermark), or null when nothing was compacted. */
  until: number | null;
}

/** How a compaction runs. */
export interface CompactOptions {
  now: number;
  /** Width of the rows compacted (the recorder's, a minute). */
  resolution?: number;
  /** Checks leadership inside each hour's transaction (the scheduled job); none for `prodmon cleanup`. */
  fence?: (tx: Repos) => Promise<unknown>;
  /** Stops between hours (what is done stays done: the watermark moves with each hour). */
  signal?: AbortSignal;
  /** After each hour: how many are done of how many. */
  onProgress?: (done: number, total: number) => void;
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

/** An hourly row per (metric, labels, instance) of an hour's minute rows (sketches summed from their bytes). */
function mergeHour(rows: readonly RollupRow[], hour: number): RollupRow[] {
  const merger = new EntryMerger();
  for (const r of rows) merger.add(r.metric, r.instance, r.labels, 0, entryFromRow(r), true, hour, HOUR_MS);
  return merger.entries().map((e) => {
    const sketch = e.sketch();
    return {
      metric: e.metric,
      labels: canonicalLabels(parseLabels(e.labelsJson)),
      instance: e.instance,
      resolution: HOUR_MS,
      bucket: hour,
      count: e.count,
      sum: e.sum,
      min: e.min,
      max: e.max,
      errors: e.errors,
      sketch: sketch ? encodeSketch(sketch) : null,
    };
  });
}

/** Whether whole hours wait to be compacted (what the job checks when an instance starts leading). */
export async function compactionDue(store: Store, now: number, resolution = MINUTE_MS): Promise<boolean> {
  const end = bucketStart(now - COMPACTION_GRACE_MS, HOUR_MS);
  const watermark = await store.state.get<number>(COMPACTED_UNTIL_KEY);
  if (typeof watermark === 'number' && watermark >= end) return false;
  const oldest = await store.rollups.oldestBucket(resolution);
  return oldest !== null && oldest < end;
}

/** Hours in [from, until) whose minute totals differ from their hourly rows' (rows came after compaction). */
async function changedHours(
  store: Store,
  resolution: number,
  from: number,
  until: number,
): Promise<number[]> {
  if (from >= until) return [];
  const [minute, hourly] = await Promise.all([
    store.rollups.countsByHour(resolution, from, until),
    store.rollups.countsByHour(HOUR_MS, from, until),
  ]);
  return [...minute]
    .filter(([hour, n]) => n !== (hourly.get(hour) ?? 0))
    .map(([hour]) => hour)
    .sort((a, b) => a - b);
}

/** Moves the watermark forward only (a run that overlaps another never moves it back). */
async function advanceWatermark(tx: Repos, until: number, now: number): Promise<void> {
  const current = await tx.state.get<number>(COMPACTED_UNTIL_KEY);
  if (typeof current !== 'number' || current < until) await tx.state.set(COMPACTED_UNTIL_KEY, until, now);
}

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * Writes an hourly row per (metric, labels, instance) for every whole hour that ended at least
 * {@link COMPACTION_GRACE_MS} ago and has minute rows, from the watermark on, one hour per transaction
 * (the watermark moves with each), yielding to the event loop between hours. Hours of the last
 * {@link LATE_ROWS_LOOKBACK_MS} before the watermark whose minute rows changed since are compacted
 * again. Idempotent: hourly rows are replaced.
 */
export async function compact(store: Store, opts: CompactOptions): Promise<CompactionResult> {
  const resolution = opts.resolution ?? MINUTE_MS;
  const end = bucketStart(opts.now - COMPACTION_GRACE_MS, HOUR_MS);
  let watermark = await store.state.get<number>(COMPACTED_UNTIL_KEY);
  const oldest = await store.rollups.oldestBucket(resolution);
  if (oldest === null) return { hours: 0, recompacted: 0, rows: 0, until: null };
  const hours: number[] = [];
  let start = bucketStart(oldest, HOUR_MS);
  if (typeof watermark === 'number') {
    // Only whole hours are checked again: retention may have taken the first minutes of the oldest.
    const from = Math.max(watermark - LATE_ROWS_LOOKBACK_MS, Math.ceil(oldest / HOUR_MS) * HOUR_MS);
    hours.push(...(await changedHours(store, resolution, from, Math.min(watermark, end))));
    start = Math.max(start, watermark);
  }
  const recompacted = hours.length;
  for (let hour = start; hour + HOUR_MS <= end; hour += HOUR_MS) hours.push(hour);
  let written = 0;
  let done = 0;
  for (const hour of hours) {
    opts.signal?.throwIfAborted();
    const rows = await store.rollups.query({ resolution, since: hour, until: hour + HOUR_MS });
    const hourly = mergeHour(rows, hour);
    const advance = hour + HOUR_MS > (watermark ?? Number.NEGATIVE_INFINITY);
    if (hourly.length > 0 || advance) {
      await store.transaction(async (tx) => {
        await opts.fence?.(tx);
        if (hourly.length > 0) await tx.rollups.upsert(hourly);
        if (advance) await advanceWatermark(tx, hour + HOUR_MS, opts.now);
      });
      if (advance) watermark = hour + HOUR_MS;
    }
    written += hourly.length;
    opts.onProgress?.(++done, hours.length);
    await yieldToEventLoop();
  }
  if (end > (watermark ?? Number.NEGATIVE_INFINITY)) {
    // No minute rows in the hours up to `end`: nothing to compact there, the watermark moves on.
    await store.transaction(async (tx) => {
      await opts.fence?.(tx);
      await advanceWatermark(tx, end, opts.now);
    });
    watermark = end;
  }
  return { hours: hours.length, recompacted, rows: written, until: watermark ?? null };
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
