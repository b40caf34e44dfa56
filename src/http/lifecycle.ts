/** Where the monitor is in its life: built by the app, read by the health routes. */
import type { HealthStatus } from '../domain/health.js';

/** Where the monitor is in its life; read by the health routes. */
export interface Lifecycle {
  /** Started and serving. */
  ready: boolean;
  /** Shutting down: readiness fails while in-flight work finishes. */
  draining: boolean;
  startedAt: number | null;
  /** prodmon's own state: its store reachable (heartbeat) and the `self` check's latest result. */
  selfStatus(): HealthStatus;
}
