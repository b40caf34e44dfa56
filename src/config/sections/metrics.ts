/** `metrics`: instrumentation, rollups, system sampling and the Prometheus export. */
import { z } from 'zod';
import { METRICS_LIMITS as L } from '../../core/limits.js';
import { count, duration, obj, size } from '../zod-helpers.js';

export const metricsSection = obj({
  /** How often in-memory rollups are written to the store. */
  flush_interval: duration('10s', L.flush_interval),
  /** How often CPU, memory, disk and event-loop figures are sampled. */
  sample_interval: duration('10s', L.sample_interval),
  /**
   * Cap on distinct label sets per metric; more fold into an overflow series. Applies to this process's
   * own series and, at a standalone prodmon, to those of each pushing instance.
   */
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
  /** Admission control of `POST /production/ingest` (a standalone prodmon that app processes push to). */
  ingest: obj({
    /** Rows in one push request at most (the wire format allows 5,000). */
    max_rows_per_request: count(5000, 1, 5000),
    /** Limits of each pushing instance (a token and an instance name). */
    per_instance: obj({
      /** Series (label sets, counting those folded into the overflow series) first seen per minute. */
      max_new_series_per_minute: count(5000, 1, 1_000_000),
      /** Request bytes per second, averaged (a burst of 10 seconds' worth passes). */
      max_bytes_per_second: size('1MB', { min: '1KB', max: '1GB' }),
    }).prefault({}),
    /** Limits of all the instances pushing with one token together. */
    per_token: obj({
      /** Instances pushing at once (an instance is forgotten after an hour without a push). */
      max_instances: count(1000, 1, 100_000),
      /** Series per metric over all its instances; more fold into each instance's overflow series. */
      max_series_per_metric: count(100_000, 10, 10_000_000),
      max_new_series_per_minute: count(100_000, 1, 10_000_000),
      max_bytes_per_second: size('16MB', { min: '1KB', max: '10GB' }),
    }).prefault({}),
    /** The `self` check reports a limited pusher until it has gone this long without hitting a limit. */
    problem_clear_after: duration('10m', { min: '1m', max: '1d' }),
    /**
     * Pushed rows of open minutes held in memory (on SQLite) until their minute settles, each written
     * once then; past this many, the oldest minutes are written early. About 1.5 KB each.
     */
    max_open_rows: count(100_000, 100, 10_000_000),
  }).prefault({}),
}).prefault({});
