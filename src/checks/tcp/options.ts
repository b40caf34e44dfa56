/** Options of the `tcp` check kind, beside the common keys (no I/O: config validation reads them). */
import { z } from 'zod';
import { nonEmpty } from '../../config/zod-helpers.js';
import { latencyThreshold } from '../options.js';

export const shape = {
  host: nonEmpty(),
  port: z.number().int().min(1).max(65535),
  latency_threshold: latencyThreshold(),
};
