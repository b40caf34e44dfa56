/** Options of the `slack` channel kind, beside the common keys (no I/O: config validation reads them). */
import { z } from 'zod';

export const shape = { url: z.string().url() };
