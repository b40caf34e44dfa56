/** Options of the `memory` check kind, beside the common keys (no I/O: config validation reads them). */
import { z } from 'zod';
import { percentThresholds } from '../options.js';

export const shape = {
  /** Used % thresholds (default `alerting.thresholds.memory_usage`). */
  thresholds: percentThresholds(),
  /** Where cgroups are mounted (for tests and unusual hosts). */
  cgroup_root: z.string().default('/sys/fs/cgroup'),
};
