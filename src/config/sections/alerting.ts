/** `alerting`: the six built-in threshold rules, extra rules, timing of dedup and resolution. */
import { z } from 'zod';
import { ALERT_TYPES, SEVERITIES } from '../../core/types.js';
import { anyDuration, duration, nonEmpty, obj } from '../zod-helpers.js';

/** The specification's thresholds (warning / critical), on by default. */
export const DEFAULT_THRESHOLDS = {
  api_response_time: { warning: 500, critical: 2000 },
  database_query_time: { warning: 100, critical: 500 },
  memory_usage: { warning: 80, critical: 95 },
  cpu_usage: { warning: 80, critical: 95 },
  error_rate: { warning: 1, critical: 5 },
  disk_usage: { warning: 85, critical: 95 },
} as const;
export type BuiltinMetric = keyof typeof DEFAULT_THRESHOLDS;

const threshold = (name: BuiltinMetric) =>
  obj({
    warning: z.number().default(DEFAULT_THRESHOLDS[name].warning),
    critical: z.number().default(DEFAULT_THRESHOLDS[name].critical),
    enabled: z.boolean().default(true),
  }).prefault({});

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

const rule = obj({
  name: nonEmpty(),
  /** A recorded metric (`http_request_duration_ms`...) or `check:<name>:status|latency`. */
  metric: nonEmpty(),
  labels: z.record(z.string(), z.string()).default({}),
  /** Evaluate per distinct value of these labels (one alert each). */
  group_by: z.array(z.string()).default([]),
  aggregation: z.enum(AGGREGATIONS).default('p95'),
  window: duration('5m'),
  /** `above` fires when value > threshold, `below` when value < threshold. */
  direction: z.enum(['above', 'below']).default('above'),
  warning: z.number().optional(),
  critical: z.number().optional(),
  /** How long the condition must hold before firing (default 2m for warning, 0 for critical). */
  for: anyDuration().optional(),
  /** Clear only once the value is back past this (hysteresis). */
  clear: z.number().optional(),
  keep_firing_for: duration('0s'),
  type: z.enum(ALERT_TYPES).default('performance'),
  severity: obj({
    warning: z.enum(SEVERITIES).default('medium'),
    critical: z.enum(SEVERITIES).default('critical'),
  }).prefault({}),
  message: z.string().optional(),
  enabled: z.boolean().default(true),
});

const maintenance = obj({
  name: nonEmpty(),
  /** Cron expression of each window's start (recurring), or `start`/`end` for a one-off. */
  schedule: z.string().optional(),
  duration: anyDuration().optional(),
  start: z.string().optional(),
  end: z.string().optional(),
  timezone: z.string().optional(),
  rules: z.array(z.string()).default([]),
  labels: z.record(z.string(), z.string()).default({}),
  types: z.array(z.enum(ALERT_TYPES)).default([]),
  comment: z.string().default(''),
});

export const alertingSection = obj({
  evaluation_interval: duration('60s'),
  cooldown: duration('15m'),
  repeat_interval: duration('4h'),
  auto_resolve_after: duration('30m'),
  /** Default window of the built-in rules. */
  window: duration('5m'),
  /** Default `for` of warning-level conditions. */
  warning_for: duration('2m'),
  thresholds: obj({
    api_response_time: threshold('api_response_time'),
    database_query_time: threshold('database_query_time'),
    memory_usage: threshold('memory_usage'),
    cpu_usage: threshold('cpu_usage'),
    error_rate: threshold('error_rate'),
    disk_usage: threshold('disk_usage'),
  }).prefault({}),
  rules: z.array(rule).default([]),
  maintenance: z.array(maintenance).default([]),
}).prefault({});
