/** `server`: where the standalone HTTP server listens and how its routes are named. */
import { z } from 'zod';
import { duration, obj } from '../zod-helpers.js';

export const serverSection = obj({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(9464),
  /** Prefix put before every prodmon route when mounted into an app (e.g. `/ops`). */
  prefix: z
    .string()
    .regex(/^(\/[\w.-]+)*$/, { error: 'expected a path prefix such as "/ops" (no trailing slash), or ""' })
    .default(''),
  /** The URL operators reach prodmon at, used for links in notifications. */
  public_url: z.string().url().optional(),
  /** How long in-flight requests get to finish on shutdown. */
  shutdown_timeout: duration('10s', { max: '10m' }),
}).prefault({});
