/** `store`: SQLite (one process, the default) or PostgreSQL (several instances, one truth). */
import { z } from 'zod';
import { duration, nonEmpty, obj } from '../zod-helpers.js';

const sqlite = obj({
  driver: z.literal('sqlite'),
  /** Database file; default `<data_dir>/prodmon.db`. */
  path: z.string().optional(),
  /** How often the `self` check runs `PRAGMA quick_check` on a worker thread (`0s`: never). */
  integrity_check_interval: duration('1h', { max: '30d' }),
});

const postgres = obj({
  driver: z.literal('postgres'),
  url: nonEmpty(),
  /** Schema holding prodmon's tables (created if missing). */
  schema: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, { error: 'expected a lower-case SQL identifier' })
    .default('public'),
  pool_size: z.number().int().min(2).max(100).default(10),
});

export const storeSection = z
  .discriminatedUnion('driver', [sqlite, postgres], {
    error: (iss) =>
      iss.code === 'invalid_union' ? 'expected driver to be "sqlite" or "postgres"' : undefined,
  })
  .prefault({ driver: 'sqlite' });
