/** Scheduled jobs' runs. */

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
