/** Options of the `pagerduty` channel kind, beside the common keys (no I/O: config validation reads them). */
import { z } from 'zod';

export const shape = {
  routing_key: z.string().min(1, { error: 'must not be empty' }),
  url: z.string().url().default('https://events.pagerduty.com/v2/enqueue'),
  /** `payload.source` (default: this host's name). */
  source: z.string().min(1).optional(),
  component: z.string().min(1).optional(),
  group: z.string().min(1).optional(),
};
