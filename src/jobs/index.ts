/** Scheduled jobs and leadership: building them from the config (the app wires the providers in). */
import { randomBytes } from 'node:crypto';
import type { ResolvedConfig } from '../config/load.js';
import type { Clock } from '../core/clock.js';
import type { Store } from '../store/index.js';
import { PgAdvisoryLock } from './advisory-lock.js';
import { archiveJob } from './definitions/archive.js';
import { cleanupJob } from './definitions/cleanup.js';
import { compactJob } from './definitions/compact.js';
import { type DailySummarySender, dailySummaryJob } from './definitions/daily-summary.js';
import { type HealthRunner, healthJob } from './definitions/health.js';
import { LeaseLeadership } from './leadership.js';
import type { ScheduledJob } from './scheduler.js';
import type { JobLog } from './types.js';

export { leaderSessionName, PgAdvisoryLock } from './advisory-lock.js';
export { listArchives, readArchive } from './archive/reader.js';
export type { DailySummarySender } from './definitions/daily-summary.js';
export type { HealthRunner } from './definitions/health.js';
export {
  type AdvisoryLock,
  type Leadership,
  LeadershipLostError,
  LeaseLeadership,
  soleLeadership,
} from './leadership.js';
export { type RetentionReport, runRetention } from './retention.js';
export { type RunReport, type ScheduledJob, Scheduler } from './scheduler.js';
export type { Job, JobContext, JobFailure, JobResult } from './types.js';

/** Name of the leader lease. */
export const LEADER_LEASE = 'leader';

/** A lease holder id unique to this process: the instance id and a random suffix. */
export function leaseHolder(instanceId: string): string {
  return `${instanceId}/${randomBytes(3).toString('hex')}`;
}

/** The instance id of a lease holder. */
export function holderInstance(holder: string): string {
  const i = holder.lastIndexOf('/');
  return i > 0 ? holder.slice(0, i) : holder;
}

/** Leadership for this process: the lease, plus the advisory lock on PostgreSQL. */
export function createLeadership(o: {
  config: ResolvedConfig;
  store: Store;
  clock: Clock;
  holder: string;
  log?: JobLog;
}): LeaseLeadership {
  const { config } = o;
  const lock =
    config.store.driver === 'postgres'
      ? new PgAdvisoryLock({
          url: config.store.url,
          schema: config.store.schema,
          holder: o.holder,
          log: o.log,
        })
      : undefined;
  return new LeaseLeadership({
    store: o.store,
    clock: o.clock,
    holder: o.holder,
    name: LEADER_LEASE,
    ttlMs: config.jobs.leader.ttl,
    renewMs: config.jobs.leader.renew_interval,
    pollMs: config.jobs.leader.poll_interval,
    lock,
    log: o.log,
  });
}

/** What the jobs use from other parts; a job whose provider is missing is not scheduled. */
export interface JobProviders {
  health?: HealthRunner;
  /** Whether the health job stores results (false when the health service does it). */
  persistHealth?: boolean;
  dailySummary?: DailySummarySender;
}

/** The jobs with their configured schedules (false: disabled or no provider). */
export function scheduledJobs(config: ResolvedConfig, p: JobProviders): ScheduledJob[] {
  const jobs: ScheduledJob[] = [
    { job: cleanupJob(), schedule: config.jobs.cleanup },
    { job: archiveJob(), schedule: config.jobs.archive },
  ];
  if (p.health)
    jobs.push({ job: healthJob(p.health, { persist: p.persistHealth }), schedule: config.jobs.health });
  if (p.dailySummary)
    jobs.push({ job: dailySummaryJob(p.dailySummary), schedule: config.jobs.daily_summary });
  jobs.push({ job: compactJob(), schedule: config.jobs.compact });
  return jobs;
}
