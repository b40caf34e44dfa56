/** `jobs` and `archive`: the scheduled jobs, who runs them (the leader), and where archived records go. */
import { Cron } from 'croner';
import { z } from 'zod';
import { duration, obj, schedule } from '../zod-helpers.js';

/** Names of the scheduled jobs (their keys in `jobs`). */
export const JOB_NAMES = ['cleanup', 'health', 'daily_summary', 'archive', 'compact'] as const;

export const jobsSection = obj({
  cleanup: schedule('0 3 * * *'),
  health: schedule('*/15 * * * *'),
  daily_summary: schedule('0 8 * * *'),
  archive: schedule('0 4 * * 0'),
  /** Minute rollups of each whole hour become hourly rows (5 minutes past the hour: the grace for late flushes). */
  compact: schedule('5 * * * *'),
  /** IANA time zone the schedules are read in (default: the machine's). */
  timezone: z.string().optional(),
  /** A run missed by at most this much (the leader was down or changing) is made up at once; 0 = never. */
  catch_up: duration('15m', { max: '7d' }),
  /** The leader lease: only the leader runs jobs, evaluates rules and delivers notifications. */
  leader: obj({
    /** A leader that stops renewing loses the lease after this long (the takeover bound). */
    ttl: duration('10s', { min: '1s', max: '5m' }),
    /** How often the leader renews its lease. */
    renew_interval: duration('3s', { min: '100ms', max: '1m' }),
    /** How often the other instances try to take over. */
    poll_interval: duration('1s', { min: '100ms', max: '1m' }),
  })
    .prefault({})
    .refine((l) => l.renew_interval * 2 <= l.ttl, {
      error: 'renew_interval must be at most half of ttl, so one lost renewal does not lose the lease',
    }),
})
  .superRefine((jobs, ctx) => {
    if (jobs.timezone !== undefined) {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: jobs.timezone });
      } catch {
        ctx.addIssue({
          code: 'custom',
          path: ['timezone'],
          message: `unknown time zone "${jobs.timezone}" (expected an IANA name such as "Europe/Berlin")`,
        });
        return;
      }
    }
    for (const name of JOB_NAMES) {
      const pattern = jobs[name];
      if (pattern === false) continue;
      try {
        new Cron(pattern, { timezone: jobs.timezone, paused: true }).nextRun();
      } catch (err) {
        const why = err instanceof Error ? err.message.replace(/^CronPattern: /, '') : String(err);
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `invalid cron expression "${pattern}": ${why}`,
        });
      }
    }
  })
  .prefault({});

export const archiveSection = obj({
  /** Directory of the compressed NDJSON archives; default `<data_dir>/archive`. */
  dir: z.string().optional(),
  /** Records older than this are archived, then deleted by cleanup. */
  after: duration('30d', { min: '1d', max: '3650d' }),
}).prefault({});
