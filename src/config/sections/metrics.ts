/** `metrics`: instrumentation, rollups, system sampling and the Prometheus export. */
import { z } from 'zod';
import { METRICS_LIMITS as L } from '../../core/limits.js';
import { count, duration, obj } from '../zod-helpers.js';

export const metricsSection = obj({
  /** How often in-memory rollups are written to the store. */
  flush_interval: duration('10s', L.flush_interval),
  /** How often CPU, memory, disk and event-loop figures are sampled. */
  sample_interval: duration('10s', L.sample_interval),
  /** Cap on distinct label sets per metric; more fold into an overflow series. */
  max_series: count(1000, L.max_series.min, L.max_series.max),
  /** Closed rollup buckets kept in memory while the store cannot be written (oldest dropped beyond). */
  max_buffered_rows: count(20000, L.max_buffered_rows.min, L.max_buffered_rows.max),
  /** Per-minute rollups are kept this long... */
  retention: duration('30d', { min: '1h', max: '3650d' }),
  /** ...and hourly rollups this long. */
  hourly_retention: duration('400d', { min: '1d', max: '3650d' }),
  /** Paths whose disk usage is sampled (default: the data directory's file system). */
  disk_paths: z.array(z.string()).default([]),
  /** Which responses count as errors: 5xx only, or 4xx too. */
  error_statuses: z.enum(['5xx', '4xx+5xx']).default('5xx'),
  prometheus: obj({
    enabled: z.boolean().default(true),
    default_metrics: z.boolean().default(true),
  }).prefault({}),
  /** Where an embedded monitor pushes its rollups (a standalone prodmon's URL and token). */
  push: obj({
    url: z.string().url(),
    token: z.string(),
    interval: duration('10s', L.push_interval),
  }).optional(),
}).prefault({});
