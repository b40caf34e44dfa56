/**
 * `cpu`: host CPU utilisation since the previous run (or over a short window on the first run) and the load
 * average, against the `cpu_usage` thresholds. A level counts only once it has held for `for` (default 1m):
 * a busy second is not a sick host.
 */
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CpuTimes, cpuBusyPercent, cpuTimes } from '../../metrics/system-source.js';
import { Sustain } from '../sustain.js';
import type { CheckDefinition, Levels } from '../types.js';
import { levelOf, thresholdsOf } from '../util.js';
import { shape } from './options.js';

/** Utilisation in % between two readings, to a tenth (null when no time passed). */
export function utilisation(a: CpuTimes, b: CpuTimes): number | null {
  const busy = cpuBusyPercent(a, b);
  return busy === null ? null : Math.round(busy * 10) / 10;
}

type Options = { thresholds?: { warning?: number; critical?: number }; for: number; window: number };

/** A previous reading older than this is not used (the window would be too blurred). */
const MAX_SPAN_MS = 5 * 60_000;

/** The `cpu` kind. */
export const cpuCheck: CheckDefinition<Options, Options & { thresholds: Levels }> = {
  kind: 'cpu',
  shape,
  resolve: (spec, d) => ({ ...spec, thresholds: thresholdsOf(spec.thresholds, d.cpu) }),
  create(spec, ctx) {
    const t = spec.thresholds;
    const sustain = new Sustain(spec.for);
    let previous: { at: number; times: CpuTimes } | null = null;
    return {
      name: spec.name,
      kind: spec.kind,
      critical: spec.critical,
      timeout: spec.timeout,
      async run(signal) {
        const at = performance.now();
        let start =
          previous && at - previous.at >= spec.window && at - previous.at <= MAX_SPAN_MS ? previous : null;
        if (!start) {
          // The sampling window is a physical measurement, not logic time: a real, abortable wait.
          start = { at, times: cpuTimes() };
          await sleep(spec.window, undefined, { signal });
        }
        const end = { at: performance.now(), times: cpuTimes() };
        previous = end;
        const usedPercent = utilisation(start.times, end.times) ?? 0;
        const cores = cpus().length;
        const [l1, l5, l15] = loadavg();
        const { status, heldMs } = sustain.update(levelOf(usedPercent, t), ctx.clock.now());
        const over = usedPercent >= t.warning;
        return {
          status,
          details: {
            usedPercent,
            windowMs: Math.round(end.at - start.at),
            cores,
            loadAverage: [l1, l5, l15].map((l) => Math.round((l ?? 0) * 100) / 100),
            loadPerCore: Math.round(((l1 ?? 0) / Math.max(1, cores)) * 100) / 100,
            thresholds: t,
            forMs: spec.for,
            ...(over ? { aboveForMs: heldMs } : {}),
          },
          error:
            status === 'healthy'
              ? null
              : `CPU ${usedPercent}% used for ${Math.round(heldMs / 1000)}s (${status === 'unhealthy' ? 'critical' : 'warning'} threshold ${status === 'unhealthy' ? t.critical : t.warning}%)`,
        };
      },
    };
  },
};
