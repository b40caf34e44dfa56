/** The daily summary job: the last 24 hours, sent to the channels that take summaries. */
import type { Job } from '../types.js';

/** One day, sent; `sent` is how many channels got it (0 with a reason when none takes summaries). */
export type DailySummarySender = (o: {
  since: number;
  until: number;
  now: number;
  signal: AbortSignal;
}) => Promise<{ sent: number; reason?: string }>;

const DAY_MS = 86_400_000;

/** Builds the daily summary job. */
export function dailySummaryJob(send: DailySummarySender): Job {
  return {
    name: 'daily_summary',
    description: 'send the summary of the last 24 hours (alerts, performance, health) by e-mail',
    async run(ctx) {
      const now = ctx.clock.now();
      // The period ends at the scheduled time, so a run made up late covers the same day.
      const until = ctx.slot ?? now;
      const r = await send({ since: until - DAY_MS, until, now, signal: ctx.signal });
      return {
        outcome: r.sent > 0 ? 'ok' : 'skipped',
        counts: { sent: r.sent },
        detail: { since: until - DAY_MS, until, ...(r.reason ? { reason: r.reason } : {}) },
      };
    },
  };
}
