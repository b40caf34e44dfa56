/** Options of the `disk` check kind, beside the common keys (no I/O: config validation reads them). */
import { z } from 'zod';
import { percentThresholds } from '../options.js';

export const shape = {
  /** Paths whose file systems are checked (default: the data directory). */
  paths: z.array(z.string().min(1)).min(1).optional(),
  /** Used % thresholds (default `alerting.thresholds.disk_usage`). */
  thresholds: percentThresholds(),
};
