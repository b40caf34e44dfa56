/**
 * `event_loop`: p99 event-loop delay (perf_hooks.monitorEventLoopDelay) since the previous run, or over a
 * short window on the first; `degraded` above `thresholds.warning`, `unhealthy` above `thresholds.critical`,
 * once the level has held for `for` (default 30s).
 */
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Sustain } from '../sustain.js';
import type { CheckDefinition } from '../types.js';
import { levelOf } from '../util.js';
import { shape } from './options.js';

type Options = { thresholds: { warning: number; critical: number }; for: number; window: number };

const ms = (ns: number) => Math.round(ns / 1e4) / 100;

/** The `event_loop` kind. */
export const eventLoopCheck: CheckDefinition<Options> = {
  kind: 'event_loop',
  shape,
  create(spec, ctx) {
    const t = spec.thresholds;
    const sustain = new Sustain(spec.for);
    let histogram: IntervalHistogram | null = null;
    return {
      name: spec.name,
      kind: spec.kind,
      critical: spec.critical,
      timeout: spec.timeout,
      async run(signal) {
        if (!histogram) {
          histogram = monitorEventLoopDelay({ resolution: 10 });
          histogram.enable();
          await sleep(spec.window, undefined, { signal });
        }
        const h = histogram;
        const sampled = h.count > 0;
        const p99 = sampled ? ms(h.percentile(99)) : 0;
        const details = {
          p50Ms: sampled ? ms(h.percentile(50)) : null,
          p99Ms: sampled ? p99 : null,
          maxMs: sampled ? ms(h.max) : null,
          samples: h.count,
          thresholds: t,
        };
        h.reset();
        const { status } = sustain.update(levelOf(p99, t), ctx.clock.now());
        return {
          status,
          details,
          error:
            status === 'healthy'
              ? null
              : `event-loop delay p99 ${p99} ms (${status === 'unhealthy' ? 'critical' : 'warning'} threshold ${status === 'unhealthy' ? t.critical : t.warning} ms)`,
        };
      },
      async close() {
        histogram?.disable();
        histogram = null;
      },
    };
  },
};
