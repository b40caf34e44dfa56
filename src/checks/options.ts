/** Option schemas shared by several check kinds (no I/O: config validation reads them). */
import { z } from 'zod';
import { anyDuration, obj } from '../config/zod-helpers.js';

/** `thresholds: { warning, critical }` in percent, both optional (defaults come from `alerting.thresholds`). */
export const percentThresholds = () =>
  obj({
    warning: z.number().min(0).max(100).optional(),
    critical: z.number().min(0).max(100).optional(),
  }).optional();

/** An optional latency threshold (duration); above it a working target is `degraded`. */
export const latencyThreshold = () => anyDuration({ max: '5m' }).optional();
