/**
 * What the deployment gate needs from outside: its baselines in the store (src/store/repos/baselines.ts)
 * and the deploy markers (`prodmon deploy mark`), of which it reads the latest of a version.
 */
import type { Baseline, BaselineInfo } from '../domain/baseline.js';

/** Stored baselines. */
export interface BaselineRepository {
  /** Stores a baseline; false (nothing written) when one of that name exists. */
  insert(b: Baseline): Promise<boolean>;
  /** Baselines, newest first. */
  list(limit?: number): Promise<BaselineInfo[]>;
  /** One baseline with its series. */
  get(name: string): Promise<Baseline | undefined>;
  /** Deletes a baseline and its series; returns whether it existed. */
  delete(name: string): Promise<boolean>;
}

/** The deploy markers, as the gate reads them (`--before-deploy <version>`). */
export interface DeploymentLookup {
  /** The latest marker of a version (of one instance, when given); `at` in ms since the epoch. */
  latestByVersion(version: string, instance?: string): Promise<{ at: number } | undefined>;
}
