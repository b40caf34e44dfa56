/** The weekly archive job: records older than `archive.after` move to compressed NDJSON files. */
import { retentionTotals, runRetention } from '../retention.js';
import type { Job } from '../types.js';

/** Builds the archive job. */
export function archiveJob(): Job {
  return {
    name: 'archive',
    description: 'move records older than archive.after to compressed NDJSON files',
    async run(ctx) {
      const report = await runRetention({
        store: ctx.store,
        config: ctx.config,
        scope: 'archive',
        now: ctx.clock.now(),
        fence: ctx.fence,
        signal: ctx.signal,
        onProgress: ctx.progress,
      });
      return {
        counts: retentionTotals(report),
        detail: { files: report.datasets.flatMap((d) => d.files) },
      };
    },
  };
}
