/** Options of the `http` check kind, beside the common keys (no I/O: config validation reads them). */
import { z } from 'zod';
import { nonEmpty, size } from '../../config/zod-helpers.js';
import { latencyThreshold } from '../options.js';

const regex = () =>
  z.string().refine(
    (s) => {
      try {
        new RegExp(s);
        return true;
      } catch {
        return false;
      }
    },
    { error: 'expected a valid regular expression' },
  );

/** An HTTP status code. */
const status = () => z.number().int().min(100).max(599);

export const shape = {
  url: nonEmpty().refine((s) => /^https?:\/\//i.test(s), { error: 'expected an http:// or https:// URL' }),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'OPTIONS']).default('GET'),
  headers: z.record(z.string(), z.string()).default({}),
  /** Request body (with POST/PUT). */
  body: z.string().optional(),
  /** Status codes that count as up (default: any 2xx). */
  expected_status: z.union([status(), z.array(status()).min(1)]).optional(),
  /** The response body must contain this text... */
  body_contains: z.string().optional(),
  /** ...or match this regular expression. */
  body_regex: regex().optional(),
  latency_threshold: latencyThreshold(),
  /** https: `degraded` when the certificate expires in fewer days than this. */
  cert_days_warning: z.number().min(0).max(365).default(14),
  /** https: accept any certificate (self-signed test hosts); the days-left figure is still reported. */
  insecure: z.boolean().default(false),
  /** https: a PEM file of extra trusted CAs. */
  ca: z.string().optional(),
  /** Largest body read for matching. */
  max_body: size('1MB', { min: '1KB', max: '100MB' }),
};
