/** Options of the `event_loop` check kind, beside the common keys (no I/O: config validation reads them). */
import { anyDuration, obj } from '../../config/zod-helpers.js';

export const shape = {
  /** p99 lag thresholds (durations): degraded from `warning`, unhealthy from `critical`. */
  thresholds: obj({
    warning: anyDuration({ max: '1h' }).prefault('200ms'),
    critical: anyDuration({ max: '1h' }).prefault('1s'),
  }).prefault({}),
  /** How long a level must hold before the check reports it (a GC pause or a startup burst is not a sick loop). */
  for: anyDuration({ max: '1d' }).prefault('30s'),
  /** Sampling window on the first run. */
  window: anyDuration({ min: '10ms', max: '10s' }).prefault('250ms'),
};
