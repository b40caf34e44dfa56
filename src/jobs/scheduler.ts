/**
 * The scheduler: each enabled job sleeps on the injected Clock until its next cron time (croner only
 * computes the times), then runs if this instance leads. A run first claims its slot in a fenced
 * transaction (the last slot per job is stored), so a slot runs once across instances and takeovers; a
 * run still going when its next slot comes makes that slot a recorded skip (no overlap). Every run is
 * recorded in `job_runs`; a failure is told to `onFailure` (the lead raises a `system` alert from it).
 */
import type { ResolvedConfig } from '../config/load.js';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { JobOutcome } from '../domain/job.js';
import type { Store } from '../store/index.js';
import { type Leadership, LeadershipLostError } from './leadership.js';
import { compileSchedule, type Schedule } from './schedule.js';
import {
  type Job,
  type JobFailure,
  type JobLog,
  type JobProgress,
  type JobResult,
  silentJobLog,
} from './types.js';

/** Longest single sleep: long waits are cut up, so clock jumps and far schedules stay right. */
const MAX_SLEEP_MS = 3_600_000;

/** State key of the last slot claimed by a job. */
export const slotKey = (job: string): string => `jobs.last_slot.${job}`;

/** A job and when it runs. */
export interface ScheduledJob {
  job: Job;
  /** Cron expression, or false when disabled. */
  schedule: string | false;
}

/** What the scheduler needs. */
export interface SchedulerOptions {
  store: Store;
  clock: Clock;
  config: ResolvedConfig;
  leadership: Leadership;
  instance: string;
  jobs: ScheduledJob[];
  timezone?: string;
  /** A slot missed by at most this much is run when this instance becomes the leader (0: never). */
  catchUpMs?: number;
  onFailure?: (f: JobFailure) => void | Promise<void>;
  /** A job that had failed succeeded again. */
  onRecovered?: (job: string) => void | Promise<void>;
  onProgress?: (job: string, p: JobProgress) => void;
  log?: JobLog;
}

/** The end of one run as the scheduler saw it. */
export interface RunReport {
  job: string;
  slot: number | null;
  /** `not-leader`: another instance leads; `claimed`: the slot already ran. */
  outcome: JobOutcome | 'not-leader' | 'claimed';
  runId: string | null;
  result?: JobResult;
  error?: string;
}

interface Entry {
  job: Job;
  pattern: string | false;
  schedule: Schedule | null;
  running: Promise<RunReport> | null;
  failing: boolean;
}

/** Runs the jobs on their schedules, on the leader only. */
export class Scheduler {
  readonly #o: SchedulerOptions;
  readonly #log: JobLog;
  readonly #entries = new Map<string, Entry>();
  readonly #stop = new AbortController();
  #loops: Promise<void>[] = [];
  #unsubscribe: (() => void) | null = null;
  #started = false;
  /** The catch-up in progress or last done (see `settled`). */
  #catching: Promise<void> = Promise.resolve();

  constructor(o: SchedulerOptions) {
    this.#o = o;
    this.#log = o.log ?? silentJobLog;
    for (const { job, schedule } of o.jobs) {
      this.#entries.set(job.name, {
        job,
        pattern: schedule,
        schedule: schedule === false ? null : compileSchedule(schedule, o.timezone),
        running: null,
        failing: false,
      });
    }
  }

  /** The jobs, their schedules and next run times (for `status`). */
  list(
    now = this.#o.clock.now(),
  ): { job: string; description: string; schedule: string | false; next: number | null }[] {
    return [...this.#entries.values()].map((e) => ({
      job: e.job.name,
      description: e.job.description,
      schedule: e.pattern,
      next: e.schedule?.next(now) ?? null,
    }));
  }

  /** Starts one loop per enabled job; on becoming the leader, makes up recently missed slots. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const e of this.#entries.values()) if (e.schedule) this.#loops.push(this.#loop(e, e.schedule));
    this.#unsubscribe = this.#o.leadership.onChange((leader) => {
      if (leader) this.#catching = this.#catchUp();
    });
    if (this.#o.leadership.isLeader()) this.#catching = this.#catchUp();
  }

  /**
   * Resolves once the last catch-up (at start, or on becoming the leader) has decided what to run and
   * the runs under way have ended: the moment after which a run at start would have been recorded.
   */
  async settled(): Promise<void> {
    await this.#catching;
    await Promise.all([...this.#entries.values()].map((e) => e.running));
  }

  /** Stops the loops and waits for running jobs (they see their signal aborted). */
  async stop(): Promise<void> {
    this.#stop.abort(new Error('scheduler stopped'));
    this.#unsubscribe?.();
    await Promise.all(this.#loops);
    await Promise.all([...this.#entries.values()].map((e) => e.running));
    this.#loops = [];
  }

  /** Runs a job now (slot null), if this instance leads; resolves when it ended. */
  runNow(name: string): Promise<RunReport> {
    const e = this.#entries.get(name);
    if (!e) throw new Error(`no job named ${name}`);
    return this.#fire(e, null);
  }

  async #loop(e: Entry, schedule: Schedule): Promise<void> {
    const { clock } = this.#o;
    const signal = this.#stop.signal;
    let last = clock.now();
    while (!signal.aborted) {
      const next = schedule.next(Math.max(clock.now(), last));
      if (next === null) return;
      try {
        while (clock.now() < next) await clock.sleep(Math.min(next - clock.now(), MAX_SLEEP_MS), signal);
      } catch {
        return; // stopped
      }
      last = next;
      void this.#fire(e, next);
    }
  }

  /**
   * On becoming the leader: a job whose work is due runs at once (for its last slot if that one never
   * ran, else as an extra run); another job's last slot is made up if it was missed by at most
   * `catchUpMs`.
   */
  async #catchUp(): Promise<void> {
    const window = this.#o.catchUpMs ?? 0;
    const now = this.#o.clock.now();
    for (const e of this.#entries.values()) {
      if (!e.schedule || (window <= 0 && !e.job.due)) continue;
      const prev = e.schedule.previous(now);
      try {
        const last = await this.#o.store.state.get<number>(slotKey(e.job.name));
        const missed = prev !== null && (typeof last !== 'number' || last < prev) ? prev : null;
        if (e.job.due) {
          if (await e.job.due({ store: this.#o.store, now })) void this.#fire(e, missed);
          continue;
        }
        // Only a slot after one that ran is made up: a fresh store does not run everything at start.
        if (prev !== null && now - prev <= window && typeof last === 'number' && last < prev)
          void this.#fire(e, prev);
      } catch (err) {
        this.#log.warn({ job: e.job.name, err: errorMessage(err) }, 'cannot read the last run of a job');
      }
    }
  }

  #fire(e: Entry, slot: number | null): Promise<RunReport> {
    if (!this.#o.leadership.isLeader()) {
      return Promise.resolve({ job: e.job.name, slot, outcome: 'not-leader', runId: null });
    }
    if (e.running) return this.#skip(e, slot);
    const run = this.#run(e, slot).finally(() => {
      e.running = null;
    });
    e.running = run;
    return run;
  }

  /**
   * Records a slot skipped by the overlap guard. The skip claims its slot like a run, in the same fenced
   * transaction: a leader that lost its lease while its run went on (frozen, cut off from the store)
   * writes nothing, and a slot has one row across instances, run or skipped, never both.
   */
  async #skip(e: Entry, slot: number | null): Promise<RunReport> {
    const { store, clock, leadership } = this.#o;
    const name = e.job.name;
    try {
      const id = await this.#claim(name, slot);
      if (id === null) return { job: name, slot, outcome: 'claimed', runId: null };
      this.#log.warn({ job: name, slot }, 'previous run still in progress; this run is skipped');
      await store.jobs.finish(id, 'skipped', { slot, reason: 'previous run still in progress' }, clock.now());
      return { job: name, slot, outcome: 'skipped', runId: id };
    } catch (err) {
      if (err instanceof LeadershipLostError || !leadership.isLeader())
        return { job: name, slot, outcome: 'not-leader', runId: null };
      return { job: name, slot, outcome: 'skipped', runId: null, error: errorMessage(err) };
    }
  }

  async #claim(name: string, slot: number | null): Promise<string | null> {
    const { store, clock, instance, leadership } = this.#o;
    return store.transaction(async (tx) => {
      await leadership.fence(tx);
      const now = clock.now();
      if (slot !== null) {
        const last = await tx.state.get<number>(slotKey(name));
        if (typeof last === 'number' && last >= slot) return null;
        await tx.state.set(slotKey(name), slot, now);
      }
      return tx.jobs.start(name, instance, now, { slot });
    });
  }

  /** Whether the run before `runId` (on any instance) failed: a recovery to tell, even after a takeover. */
  async #failedBefore(name: string, runId: string): Promise<boolean> {
    const runs = await this.#o.store.jobs.recent({ job: name, limit: 5 }).catch(() => []);
    const prev = runs.find((r) => r.id !== runId && (r.outcome === 'ok' || r.outcome === 'failed'));
    return prev?.outcome === 'failed';
  }

  async #run(e: Entry, slot: number | null): Promise<RunReport> {
    const { store, clock, config, instance, leadership } = this.#o;
    const name = e.job.name;
    let runId: string | null;
    try {
      runId = await this.#claim(name, slot);
    } catch (err) {
      if (err instanceof LeadershipLostError || !leadership.isLeader()) {
        this.#log.warn({ job: name, slot }, 'not run: this instance no longer leads');
        return { job: name, slot, outcome: 'not-leader', runId: null };
      }
      this.#log.error({ job: name, err: errorMessage(err) }, 'cannot record the start of a job run');
      return { job: name, slot, outcome: 'failed', runId: null, error: errorMessage(err) };
    }
    if (runId === null) return { job: name, slot, outcome: 'claimed', runId: null };
    const started = clock.now();
    this.#log.info({ job: name, slot, runId }, 'job started');
    try {
      const result = await e.job.run({
        store,
        clock,
        config,
        instance,
        slot,
        signal: this.#stop.signal,
        fence: (tx) => leadership.fence(tx),
        log: this.#log,
        progress: (p) => this.#o.onProgress?.(name, p),
      });
      const outcome = result.outcome ?? 'ok';
      const durationMs = clock.now() - started;
      await store.jobs.finish(
        runId,
        outcome,
        { slot, durationMs, counts: result.counts, ...result.detail },
        clock.now(),
      );
      this.#log.info({ job: name, slot, runId, outcome, durationMs, ...result.counts }, 'job finished');
      if (e.failing || (await this.#failedBefore(name, runId))) {
        e.failing = false;
        await Promise.resolve(this.#o.onRecovered?.(name)).catch((err) =>
          this.#log.error({ job: name, err: errorMessage(err) }, 'job recovery callback failed'),
        );
      }
      return { job: name, slot, outcome, runId, result };
    } catch (err) {
      const error = errorMessage(err);
      const at = clock.now();
      await store.jobs
        .finish(runId, 'failed', { slot, durationMs: at - started, error }, at)
        .catch((e2) => this.#log.error({ job: name, err: errorMessage(e2) }, 'cannot record a failed run'));
      this.#log.error({ job: name, slot, runId, err: error }, 'job failed');
      e.failing = true;
      try {
        await this.#o.onFailure?.({ job: name, runId, slot, instance, error, at });
      } catch (e3) {
        this.#log.error({ job: name, err: errorMessage(e3) }, 'job failure callback failed');
      }
      return { job: name, slot, outcome: 'failed', runId, error };
    }
  }
}
