/** Options of the `webhook` channel kind, beside the common keys (no I/O: config validation reads them). */
import { z } from 'zod';

const RESERVED = /^(content-type|webhook-id|webhook-timestamp|webhook-signature)$/i;

export const shape = {
  url: z.string().url(),
  /** Signing secret: `whsec_<base64>` or raw text. */
  secret: z.string().min(1).optional(),
  /** More secrets (rotation): each signs, signatures are space-separated. */
  secrets: z.array(z.string().min(1)).optional(),
  headers: z
    .record(z.string(), z.string())
    .refine((h) => !Object.keys(h).some((k) => RESERVED.test(k)), {
      error: 'content-type and webhook-* headers are set by prodmon',
    })
    .default({}),
};
