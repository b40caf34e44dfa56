/** `health`: the checks, how often the cached answer is refreshed, and the endpoint's budget. */
import { z } from 'zod';
import { CHECK_OPTIONS } from '../../checks/kinds.js';
import { CHECK_TIMEOUT } from '../../core/limits.js';
import { pluginList } from '../plugin-list.js';
import { duration, nonEmpty, obj } from '../zod-helpers.js';

export const checkCommon = {
  name: nonEmpty(),
  kind: z.string(),
  timeout: duration('5s', CHECK_TIMEOUT),
  critical: z.boolean().default(true),
};

export const healthSection = obj({
  /** How often `/health/`'s cached answer is refreshed in the background. */
  refresh_interval: duration('10s', { min: '1s', max: '1h' }),
  /** How often a result is stored for history (also the `health` job's schedule). */
  persist_interval: duration('15m', { min: '10s', max: '1d' }),
  /** Longest `/health/` and `/health/ready` wait for a fresh run before answering from cache. */
  budget: duration('100ms', { max: '10s' }),
  /** On shutdown, readiness fails this long before the server stops (load balancers drain). */
  drain_delay: duration('0s', { max: '10m' }),
  /** Add the host and self checks (disk, memory, cpu, event_loop, self) when not configured. */
  builtin_checks: z.boolean().default(true),
  checks: pluginList('check', checkCommon, () => CHECK_OPTIONS)
    .superRefine((checks, ctx) => {
      const seen = new Set<string>();
      checks.forEach((c, i) => {
        if (seen.has(c.name)) {
          ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate check name "${c.name}"` });
        }
        seen.add(c.name);
      });
    })
    .default([]),
}).prefault({});
