/** The daily cleanup job: retention of every kind of record (archived first) and of log files. */
import { retentionTotals, runRetention } from '../retention.js';
import type { Job } from '../types.js';

/** Builds the cleanup job. */
export function cleanupJob(): Job {
  return {
    name: 'cleanup',
    description: 'archive, then delete, records and rollups past retention; delete old log files',
    async run(ctx) {
      const report = await runRetention({
        store: ctx.store,
        config: ctx.config,
        scope: 'cleanup',
        now: ctx.clock.now(),
        fence: ctx.fence,
        signal: ctx.signal,
        onProgress: ctx.progress,
      });
      return {
        counts: retentionTotals(report),
        detail: {
          datasets: Object.fromEntries(report.datasets.map((d) => [d.dataset, d.deleted])),
          compactedHours: report.compactedHours,
          logFailures: report.logs?.failed.length ?? 0,
        },
      };
    },
  };
}
