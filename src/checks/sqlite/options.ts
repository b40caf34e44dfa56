/** Options of the `sqlite` check kind, beside the common keys (no I/O: config validation reads them). */
import { z } from 'zod';
import { nonEmpty } from '../../config/zod-helpers.js';
import { latencyThreshold } from '../options.js';

export const shape = {
  /** The database file (must exist). */
  path: nonEmpty(),
  /** Open read-only (default), so the check never writes or locks for writing. */
  readonly: z.boolean().default(true),
  latency_threshold: latencyThreshold(),
};
