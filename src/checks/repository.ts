/** What health checks need from the store: the history of results. */
import type { HealthCheckResult, StoredCheckResult } from '../domain/health.js';

/** Health check results: history of every persisted run. */
export interface CheckResultRepository {
  /** Stores results (one row each). */
  insert(results: readonly HealthCheckResult[]): Promise<void>;
  /** The newest result of each check. */
  latest(): Promise<StoredCheckResult[]>;
  /** Results of one check (or all) since a time, newest first. */
  history(opts: {
    name?: string;
    since?: number;
    until?: number;
    limit?: number;
  }): Promise<StoredCheckResult[]>;
  /** Deletes results older than `before`; returns how many. */
  deleteBefore(before: number): Promise<number>;
}
