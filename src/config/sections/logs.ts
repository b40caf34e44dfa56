/** `logs`: the four production log files, their rotation and retention. */
import { z } from 'zod';
import { duration, obj, size } from '../zod-helpers.js';

export const logsSection = obj({
  /** Directory of the log files; default `<data_dir>/logs`. */
  dir: z.string().optional(),
  level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  /** Line format of the four files: pino's JSON, or Elastic Common Schema (ECS) JSON. */
  format: z.enum(['json', 'ecs']).default('json'),
  /** `service.name` of ECS lines (and the start of their `event.dataset`, `<service_name>.<file>`). */
  service_name: z.string().min(1).default('prodmon'),
  retention: duration('30d', { min: '1h', max: '3650d' }),
  /** Rotate each file at this size (performance gets its own, larger default). */
  max_size: size('50MB', { min: '1KB', max: '10GB' }),
  performance_max_size: size('100MB', { min: '1KB', max: '10GB' }),
  /** Also rotate once a day. */
  daily: z.boolean().default(true),
  gzip: z.boolean().default(true),
  /** Extra keys to redact at any depth, beside the built-in list. */
  redact: z.array(z.string()).default([]),
  /** Fraction of requests whose timing line goes to the performance log (0 = off). */
  performance_sample_rate: z.number().min(0).max(1).default(0),
  /** Also print application lines to stdout (standalone). */
  stdout: z.boolean().default(true),
}).prefault({});
