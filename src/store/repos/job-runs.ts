/** Runs of scheduled jobs. */
import type { Kysely } from 'kysely';
import { newId } from '../../core/ids.js';
import type { JobOutcome, JobRun } from '../../domain/job.js';
import type { JobRunRepository } from '../../jobs/repository.js';
import type { Database } from '../schema.js';
import { fromJson, toJson } from './json.js';

export class JobRunRepo implements JobRunRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Records the start of a run (with e.g. the schedule slot it runs for); returns its id. */
  async start(
    job: string,
    instance: string,
    now: number,
    detail: Record<string, unknown> = {},
  ): Promise<string> {
    const id = newId(now, 'jr_');
    await this.db
      .insertInto('jobRuns')
      .values({
        id,
        job,
        instance,
        startedAt: now,
        endedAt: null,
        outcome: 'running',
        detail: toJson(detail),
      })
      .execute();
    return id;
  }

  /** One run by id. */
  async get(id: string): Promise<JobRun | undefined> {
    const r = await this.db.selectFrom('jobRuns').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? { ...r, outcome: r.outcome as JobOutcome, detail: fromJson(r.detail, {}) } : undefined;
  }

  /** The newest run of each job (any instance), by job name. */
  async latestPerJob(): Promise<JobRun[]> {
    const newest = this.db
      .selectFrom('jobRuns')
      .select(['job'])
      .select((eb) => eb.fn.max('startedAt').as('at'))
      .groupBy('job')
      .as('n');
    const rows = await this.db
      .selectFrom('jobRuns')
      .innerJoin(newest, (j) => j.onRef('n.job', '=', 'jobRuns.job').onRef('n.at', '=', 'jobRuns.startedAt'))
      .selectAll('jobRuns')
      .orderBy('jobRuns.job')
      .orderBy('jobRuns.id', 'desc')
      .execute();
    const seen = new Set<string>();
    return rows
      .filter((r) => !seen.has(r.job) && seen.add(r.job))
      .map((r) => ({ ...r, outcome: r.outcome as JobOutcome, detail: fromJson(r.detail, {}) }));
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
