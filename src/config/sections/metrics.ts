/** `metrics`: instrumentation, rollups, system sampling and the Prometheus export. */
import { z } from 'zod';
import { duration, obj } from '../zod-helpers.js';

export const metricsSection = obj({
  /** How often in-memory rollups are written to the store. */
  flush_interval: duration('10s'),
  /** How often CPU, memory, disk and event-loop figures are sampled. */
  sample_interval: duration('10s'),
  /** Cap on distinct label sets per metric; more fold into an overflow series. */
  max_series: z.number().int().min(10).default(1000),
  /** Closed rollup buckets kept in memory while the store cannot be written (oldest dropped beyond). */
  max_buffered_rows: z.number().int().min(100).default(20000),
  /** Per-minute rollups are kept this long... */
  retention: duration('30d'),
  /** ...and hourly rollups this long. */
  hourly_retention: duration('400d'),
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
    interval: duration('10s'),
  }).optional(),
}).prefault({});
