/** Bounds of a health check's timeout: `health.checks[].timeout` and `monitor.health.register(..., { timeout })`. */
export const CHECK_TIMEOUT = { min: '10ms', max: '5m' } as const;

/**
 * Bounds shared by the `metrics` section of the config and `createAgent(options)`, which checks its
 * options without zod (the agent's module graph stays small): one rule for both.
 */
export const METRICS_LIMITS = {
  /** Flushing less often than this makes the store a write per request burst; more rarely, the dashboard lags. */
  flush_interval: { min: '1s', max: '5m' },
  /** Sampling CPU, memory and disks more than once a second costs more than it tells. */
  sample_interval: { min: '1s', max: '5m' },
  push_interval: { min: '1s', max: '5m' },
  /** Distinct label sets per metric: each costs a sketch in memory. */
  max_series: { min: 10, max: 100_000 },
  /** Closed minutes held while the store (or the push target) is down. */
  max_buffered_rows: { min: 100, max: 1_000_000 },
} as const;
