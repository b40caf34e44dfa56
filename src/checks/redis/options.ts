/** Options of the `redis` check kind, beside the common keys (no I/O: config validation reads them). */
import { z } from 'zod';
import { nonEmpty } from '../../config/zod-helpers.js';
import { latencyThreshold } from '../options.js';

export const shape = {
  /** `redis://[user:password@]host:6379[/db]` or `rediss://...`; never shown. */
  url: nonEmpty(),
  /** Prefix of the probe keys (each run writes one, with a short TTL, and deletes it). */
  key_prefix: z.string().default('prodmon:health:'),
  latency_threshold: latencyThreshold(),
};
