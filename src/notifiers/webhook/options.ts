/** Options of the `webhook` channel kind, beside the common keys (no I/O: config validation reads them). */
import { z } from 'zod';
import { secretProblem } from './signature.js';

const RESERVED = /^(content-type|webhook-id|webhook-timestamp|webhook-signature)$/i;

/** A signing secret: `whsec_` + base64 of 24 to 64 bytes; anything else is an error saying how to make one. */
const signingSecret = () =>
  z.string().superRefine((s, ctx) => {
    const problem = secretProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const shape = {
  url: z.string().url(),
  /** Signing secret: `whsec_<base64>` (make one with `prodmon notify secret`). */
  secret: signingSecret().optional(),
  /** More secrets (rotation): each signs, signatures are space-separated. */
  secrets: z.array(signingSecret()).optional(),
  headers: z
    .record(z.string(), z.string())
    .refine((h) => !Object.keys(h).some((k) => RESERVED.test(k)), {
      error: 'content-type and webhook-* headers are set by prodmon',
    })
    .default({}),
};
