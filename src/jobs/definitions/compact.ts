/**
 * The hourly compaction job: the minute rollups of every whole hour (ended at least the grace ago)
 * become hourly rows, so long periods read a row per series and hour instead of sixty. On becoming the
 * leader it runs at once when hours wait (after a restart or a leader change), without waiting for its slot.
 */

import { compact, compactionDue } from '../../metrics/maintenance.js';
import { MINUTE_MS } from '../../metrics/rollup.js';
import type { Job } from '../types.js';

/** Builds the compaction job. */
export function compactJob(): Job {
  return {
    name: 'compact',
    description: 'merge the minute rollups of each whole hour into hourly rows (again when rows came late)',
    due: ({ store, now }) => compactionDue(store, now, MINUTE_MS),
    async run(ctx) {
      const r = await compact(ctx.store, {
        now: ctx.clock.now(),
        resolution: MINUTE_MS,
        fence: ctx.fence,
        signal: ctx.signal,
        onProgress: (done, total) => ctx.progress({ step: 'compact hours', done, total }),
      });
      return {
        counts: { hours: r.hours, recompacted: r.recompacted, rows: r.rows },
        detail: { until: r.until },
      };
    },
  };
}
