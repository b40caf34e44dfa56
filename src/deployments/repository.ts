/** What deploy markers need from the store; the store's DeploymentRepo (src/store/repos/deployments.ts) implements it. */
import type { Deployment, DeploymentQuery } from '../domain/deployment.js';

/** Deploy markers. */
export interface DeploymentRepository {
  /** Stores a marker. */
  record(d: Deployment): Promise<void>;
  /** Markers with `since` <= at < `until` (of one instance exactly, when given), newest first. */
  list(q: DeploymentQuery): Promise<Deployment[]>;
  /**
   * The newest marker of `version` (by its time, then its id). With `instance`, the newest that applies
   * to that instance: one recorded for it or one for the whole service (instance null).
   */
  latestByVersion(version: string, instance?: string): Promise<Deployment | undefined>;
}
