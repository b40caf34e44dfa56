/** What a scheduled job is, and what it is given when it runs. */
import type { ResolvedConfig } from '../config/load.js';
import type { Clock } from '../core/clock.js';
import type { Repos, Store } from '../store/index.js';

/** Where jobs report (pino-compatible; the production logger's `app` logger fits). */
export interface JobLog {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

/** A log that drops everything. */
export const silentJobLog: JobLog = { info() {}, warn() {}, error() {} };

/** How far a long run has come. */
export interface JobProgress {
  /** What is being done (`archive rollups_minute`, `delete logs`...). */
  step: string;
  done: number;
  /** Total when known. */
  total: number | null;
}

/** What a job receives for one run. */
export interface JobContext {
  store: Store;
  clock: Clock;
  config: ResolvedConfig;
  /** The instance running the job. */
  instance: string;
  /** The scheduled time this run is for (null for a run started by hand). */
  slot: number | null;
  /** Aborted when the monitor stops: a job stops between steps. */
  signal: AbortSignal;
  /** Throws PRODMON_E_LEADERSHIP inside `tx` unless this instance still leads: call it before leader-only writes. */
  fence(tx: Repos): Promise<unknown>;
  log: JobLog;
  progress(p: JobProgress): void;
}

/** How a run ended, with its figures (shown by `prodmon status`). */
export interface JobResult {
  /** `skipped`: nothing to do that the job could do (e.g. no channel to send a summary to). */
  outcome?: 'ok' | 'skipped';
  counts: Record<string, number>;
  detail?: Record<string, unknown>;
}

/** A scheduled job. */
export interface Job {
  readonly name: string;
  readonly description: string;
  run(ctx: JobContext): Promise<JobResult>;
  /**
   * Whether work is waiting that should not wait for the next slot: checked when this instance starts
   * leading (at start, or on taking over), and the job then runs at once, whatever `jobs.catch_up` says.
   */
  due?(ctx: { store: Store; now: number }): Promise<boolean>;
}

/** A job that failed, for the `system` alert the lead wires to the alert engine. */
export interface JobFailure {
  job: string;
  runId: string;
  slot: number | null;
  instance: string;
  error: string;
  at: number;
}
