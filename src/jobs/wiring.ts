/**
 * How the running monitor builds its scheduler: the four jobs with their providers (the health service,
 * the metrics engine's performance summary for the daily e-mail, the outbox), and a log adapter.
 */
import type { ResolvedConfig } from '../config/load.js';
import type { Clock } from '../core/clock.js';
import type { HealthCheckResult } from '../domain/health.js';
import { enqueueDailySummary, type PerformanceSummaryFn } from '../notifiers/summary/daily.js';
import type { Store } from '../store/index.js';
import type { DailySummarySender } from './definitions/daily-summary.js';
import { scheduledJobs } from './index.js';
import type { Leadership } from './leadership.js';
import { Scheduler } from './scheduler.js';
import type { JobFailure, JobLog } from './types.js';

/** A pino-like logger pair (the production logger's `app` and `error` streams). */
export interface LoggerPair {
  app: { info(o: object, m: string): void; warn(o: object, m: string): void };
  error: { error(o: object, m: string): void };
}

/** Job logs on the application stream, failures on the error stream too. */
export function jobLog(logger: LoggerPair): JobLog {
  return {
    info: (o, m) => logger.app.info(o, m),
    warn: (o, m) => logger.app.warn(o, m),
    error: (o, m) => logger.error.error(o, m),
  };
}

/** The daily summary through the outbox: one row per e-mail channel per day (its key makes it once). */
export function outboxSummarySender(o: {
  store: Store;
  config: ResolvedConfig;
  performance?: PerformanceSummaryFn;
}): DailySummarySender {
  const channels = o.config.notifications.channels.map((c) => ({ name: c.name, kind: c.kind }));
  const link = o.config.server.public_url
    ? `${o.config.server.public_url}${o.config.server.prefix}/production/dashboard/`
    : null;
  return async ({ until, fence }) => {
    if (!channels.some((c) => c.kind === 'email'))
      return { sent: 0, reason: 'no e-mail channel is configured' };
    const keys = await o.store.transaction(async (tx) => {
      await fence(tx);
      const r = await enqueueDailySummary({
        store: tx,
        now: until,
        outbox: tx.outbox,
        channels,
        link,
        performanceSummary: o.performance,
      });
      return r.keys;
    });
    return keys.length > 0 ? { sent: keys.length } : { sent: 0, reason: 'already queued for this day' };
  };
}

/** What {@link createScheduler} wires. */
export interface SchedulerWiring {
  config: ResolvedConfig;
  store: Store;
  clock: Clock;
  leadership: Leadership;
  logger: LoggerPair;
  /** The health service: its `run({ persistAll })` stores every result. */
  health?: { run(opts: { persistAll?: boolean }): Promise<{ checks: HealthCheckResult[] }> };
  performance?: PerformanceSummaryFn;
  /** A failed job (the lead raises a `system` alert from it); default: the error log only. */
  onFailure?: (f: JobFailure) => void | Promise<void>;
  onRecovered?: (job: string) => void | Promise<void>;
}

/** The scheduler of a running monitor (not started). */
export function createScheduler(w: SchedulerWiring): Scheduler {
  const { config, store } = w;
  const health = w.health;
  return new Scheduler({
    store,
    clock: w.clock,
    config,
    leadership: w.leadership,
    instance: config.instanceId,
    timezone: config.jobs.timezone,
    catchUpMs: config.jobs.catch_up,
    log: jobLog(w.logger),
    onFailure: w.onFailure,
    onRecovered: w.onRecovered,
    jobs: scheduledJobs(config, {
      health: health && { runAll: async () => (await health.run({ persistAll: true })).checks },
      persistHealth: false,
      dailySummary: outboxSummarySender({ store, config, performance: w.performance }),
    }),
  });
}
