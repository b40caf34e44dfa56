/** Runs of scheduled jobs, and the instances that share the store. */
import type { Kysely } from 'kysely';
import { newId } from '../../core/ids.js';
import type { Database } from '../schema.js';
import { fromJson, toJson } from './json.js';

export type JobOutcome = 'running' | 'ok' | 'failed' | 'skipped';

/** One run of a job. */
export interface JobRun {
  id: string;
  job: string;
  instance: string;
  startedAt: number;
  endedAt: number | null;
  outcome: JobOutcome;
  detail: Record<string, unknown>;
}

/** A prodmon process known to the store. */
export interface InstanceInfo {
  id: string;
  host: string;
  pid: number;
  version: string;
  startedAt: number;
  lastSeenAt: number;
}

export class JobRunRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Records the start of a run; returns its id. */
  async start(job: string, instance: string, now: number): Promise<string> {
    const id = newId(now, 'jr_');
    await this.db
      .insertInto('jobRuns')
      .values({ id, job, instance, startedAt: now, endedAt: null, outcome: 'running', detail: '{}' })
      .execute();
    return id;
  }

  /** Records how a run ended. */
  async finish(id: string, outcome: JobOutcome, detail: Record<string, unknown>, now: number): Promise<void> {
    await this.db
      .updateTable('jobRuns')
      .set({ outcome, detail: toJson(detail), endedAt: now })
      .where('id', '=', id)
      .execute();
  }

  /** Recent runs, newest first (optionally of one job). */
  async recent(opts: { job?: string; limit?: number } = {}): Promise<JobRun[]> {
    let q = this.db.selectFrom('jobRuns').selectAll();
    if (opts.job) q = q.where('job', '=', opts.job);
    const rows = await q
      .orderBy('startedAt', 'desc')
      .orderBy('id', 'desc')
      .limit(opts.limit ?? 50)
      .execute();
    return rows.map((r) => ({ ...r, outcome: r.outcome as JobOutcome, detail: fromJson(r.detail, {}) }));
  }

  /** Deletes runs started before `before`. */
  async deleteBefore(before: number): Promise<number> {
    const r = await this.db.deleteFrom('jobRuns').where('startedAt', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

export class InstanceRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Registers or refreshes an instance's heartbeat. */
  async heartbeat(info: Omit<InstanceInfo, 'lastSeenAt'>, now: number): Promise<void> {
    await this.db
      .insertInto('instances')
      .values({ ...info, lastSeenAt: now })
      .onConflict((oc) => oc.column('id').doUpdateSet({ lastSeenAt: now, version: info.version }))
      .execute();
  }

  /** Instances seen since `since`, most recent first. */
  async list(since = 0): Promise<InstanceInfo[]> {
    return this.db
      .selectFrom('instances')
      .selectAll()
      .where('lastSeenAt', '>=', since)
      .orderBy('lastSeenAt', 'desc')
      .execute();
  }

  /** Removes an instance (on clean shutdown). */
  async remove(id: string): Promise<void> {
    await this.db.deleteFrom('instances').where('id', '=', id).execute();
  }
}
