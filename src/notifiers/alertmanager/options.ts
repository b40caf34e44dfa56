/** Options of the `alertmanager` channel kind, beside the common keys (no I/O: config validation reads them). */
import { z } from 'zod';
import { duration } from '../../config/zod-helpers.js';

export const shape = {
  url: z.string().url(),
  headers: z.record(z.string(), z.string()).default({}),
  firing_ttl: duration('24h', { min: '1m', max: '30d' }),
};
