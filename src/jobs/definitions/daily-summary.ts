/** The daily summary job: the 24 hours up to its scheduled time, queued for the channels that take summaries. */
import type { Repos } from '../../store/index.js';
import type { Job } from '../types.js';

/**
 * Queues (or sends) the summary of the day ending at `until`; `fence` guards leader-only writes.
 * `sent` is how many channels got it (0, with a reason, when none takes summaries or it was sent already).
 */
export type DailySummarySender = (o: {
  until: number;
  now: number;
  signal: AbortSignal;
  fence: (tx: Repos) => Promise<unknown>;
}) => Promise<{ sent: number; reason?: string }>;

/** Builds the daily summary job. */
export function dailySummaryJob(send: DailySummarySender): Job {
  return {
    name: 'daily_summary',
    description: 'send the summary of the last 24 hours (alerts, performance, health) by e-mail',
    async run(ctx) {
      const now = ctx.clock.now();
      // The period ends at the scheduled time, so a run made up late covers the same day.
      const until = ctx.slot ?? now;
      const r = await send({ until, now, signal: ctx.signal, fence: ctx.fence });
      return {
        outcome: r.sent > 0 ? 'ok' : 'skipped',
        counts: { sent: r.sent },
        detail: { until, ...(r.reason ? { reason: r.reason } : {}) },
      };
    },
  };
}
