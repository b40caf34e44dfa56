/** `jobs` and `archive`: the scheduled jobs and where archived records go. */
import { z } from 'zod';
import { duration, obj, schedule } from '../zod-helpers.js';

export const jobsSection = obj({
  cleanup: schedule('0 3 * * *'),
  health: schedule('*/15 * * * *'),
  daily_summary: schedule('0 8 * * *'),
  archive: schedule('0 4 * * 0'),
  /** IANA time zone the schedules are read in (default: the machine's). */
  timezone: z.string().optional(),
}).prefault({});

export const archiveSection = obj({
  /** Directory of the compressed NDJSON archives; default `<data_dir>/archive`. */
  dir: z.string().optional(),
  /** Records older than this are archived, then deleted by cleanup. */
  after: duration('30d'),
}).prefault({});
