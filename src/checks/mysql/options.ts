/** Options of the `mysql` check kind, beside the common keys (no I/O: config validation reads them). */
import { nonEmpty } from '../../config/zod-helpers.js';
import { latencyThreshold } from '../options.js';

export const shape = {
  /** Connection URL (`mysql://user:password@host:3306/db`); never shown. */
  url: nonEmpty(),
  latency_threshold: latencyThreshold(),
};
