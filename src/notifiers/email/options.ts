/** Options of the `email` channel kind, beside the common keys (no I/O: config validation reads them). */
import { z } from 'zod';
import { obj } from '../../config/zod-helpers.js';

export const shape = {
  to: z.array(z.string().email()).min(1, { error: 'needs at least one address' }),
  from: z.string().min(1).default('prodmon <prodmon@localhost>'),
  subject_prefix: z.string().default('[prodmon]'),
  smtp: obj({
    host: z.string().min(1).default('localhost'),
    /** Default 465 with `secure`, else 25. */
    port: z.number().int().min(1).max(65535).optional(),
    /** Implicit TLS from the first byte (port 465). */
    secure: z.boolean().default(false),
    /** Without `secure`: upgrade when offered (auto), insist (required), or never (off). */
    starttls: z.enum(['auto', 'required', 'off']).default('auto'),
    auth: obj({ user: z.string().min(1), pass: z.string() }).optional(),
    reject_unauthorized: z.boolean().default(true),
  }).prefault({}),
};
