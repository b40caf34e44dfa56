/** Options of the `cpu` check kind, beside the common keys (no I/O: config validation reads them). */
import { anyDuration } from '../../config/zod-helpers.js';
import { percentThresholds } from '../options.js';

export const shape = {
  /** Used % thresholds (default `alerting.thresholds.cpu_usage`). */
  thresholds: percentThresholds(),
  /** How long a level must hold before the check reports it. */
  for: anyDuration({ max: '1d' }).prefault('1m'),
  /** Sampling window when there is no recent previous reading. */
  window: anyDuration({ min: '10ms', max: '10s' }).prefault('250ms'),
};
