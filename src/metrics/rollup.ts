/**
 * Rollup math (pure): per-bucket statistics (count, sum, min, max, errors, sketch), merging them, and
 * the aggregations alert rules and reports read from them.
 */

import type { Labels } from '../domain/labels.js';
import type { PerformanceFigures } from '../domain/status.js';
import { emptySketch, type Sketch, sketchMerge, sketchQuantile } from './sketch.js';

/** Width of a minute bucket in ms. */
export const MINUTE_MS = 60_000;
/** Width of an hourly bucket in ms. */
export const HOUR_MS = 3_600_000;

/** What one bucket (or a merge of several) knows. */
export interface RollupStats {
  count: number;
  sum: number;
  min: number;
  max: number;
  errors: number;
  /** Null when no distribution is known (quantiles are then null). */
  sketch: Sketch | null;
}

/** Every aggregation a window can be reduced to (also what rule configs may name). */
export const AGGREGATIONS = [
  'p50',
  'p90',
  'p95',
  'p99',
  'avg',
  'max',
  'min',
  'rate',
  'count',
  'sum',
  'ratio',
] as const;

/** The aggregations a window can be reduced to. */
export type Aggregation = (typeof AGGREGATIONS)[number];

const QUANTILE: Partial<Record<Aggregation, number>> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99 };

/** Whether an aggregation needs the sketches (only the quantiles do). */
export function needsSketch(agg: Aggregation): boolean {
  return QUANTILE[agg] !== undefined;
}

/** Start of the bucket of width `resolution` that contains `t`. */
export function bucketStart(t: number, resolution: number): number {
  return t - (((t % resolution) + resolution) % resolution);
}

/** Canonical JSON of labels (keys sorted): the `labels` column and the series key. */
export function canonicalLabels(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    out += `${i ? ',' : ''}${JSON.stringify(k)}:${JSON.stringify(String(labels[k]))}`;
  }
  return `${out}}`;
}

/** Labels from their canonical JSON (an unreadable value gives no labels). */
export function parseLabels(json: string): Labels {
  try {
    const v = JSON.parse(json) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
    const out: Labels = {};
    for (const [k, val] of Object.entries(v)) out[k] = String(val);
    return out;
  } catch {
    return {};
  }
}

/** Statistics of nothing. */
export function emptyStats(): RollupStats {
  return {
    count: 0,
    sum: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    errors: 0,
    sketch: null,
  };
}

/**
 * Adds `from` into `into`. The sketch is merged only when `withSketch` is set (reads that need no
 * quantile skip decoding them); `into.sketch` then becomes a fresh sketch, never one of the inputs.
 */
export function mergeStats(
  into: RollupStats,
  from: Omit<RollupStats, 'sketch'>,
  sketch?: Sketch | null,
): void {
  if (from.count <= 0) return;
  into.count += from.count;
  into.sum += from.sum;
  into.errors += from.errors;
  if (from.min < into.min) into.min = from.min;
  if (from.max > into.max) into.max = from.max;
  if (sketch && sketch.count > 0) {
    into.sketch ??= emptySketch();
    sketchMerge(into.sketch, sketch);
  }
}

/** Quantile `q` of merged statistics (null without samples or sketch). */
export function statsQuantile(stats: RollupStats, q: number): number | null {
  if (stats.count <= 0 || !stats.sketch) return null;
  return sketchQuantile(stats.sketch, q, stats.min, stats.max);
}

/**
 * One number for a window: quantiles/avg/min/max of the values (null without samples), `count` and
 * `sum`, `rate` = errors per minute over `windowMs`, `ratio` = errors / count (null without samples).
 */
export function aggregate(stats: RollupStats, agg: Aggregation, windowMs: number): number | null {
  const q = QUANTILE[agg];
  if (q !== undefined) return statsQuantile(stats, q);
  switch (agg) {
    case 'count':
      return stats.count;
    case 'sum':
      return stats.sum;
    case 'rate':
      return windowMs > 0 ? stats.errors / (windowMs / MINUTE_MS) : null;
    case 'ratio':
      return stats.count > 0 ? stats.errors / stats.count : null;
    case 'avg':
      return stats.count > 0 ? stats.sum / stats.count : null;
    case 'max':
      return stats.count > 0 ? stats.max : null;
    case 'min':
      return stats.count > 0 ? stats.min : null;
    default:
      return null;
  }
}

/** Latency and error figures over a window of `windowMs` (throughput per second). */
export function performanceFigures(stats: RollupStats, windowMs: number): PerformanceFigures {
  const has = stats.count > 0;
  return {
    count: stats.count,
    errors: stats.errors,
    throughput: windowMs > 0 ? stats.count / (windowMs / 1000) : 0,
    errorRate: has ? stats.errors / stats.count : 0,
    p50: statsQuantile(stats, 0.5),
    p90: statsQuantile(stats, 0.9),
    p95: statsQuantile(stats, 0.95),
    p99: statsQuantile(stats, 0.99),
    max: has ? stats.max : null,
    avg: has ? stats.sum / stats.count : null,
  };
}
