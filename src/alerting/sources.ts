/**
 * What the alert engine reads: windows of metric values (the metrics engine), health check results
 * (the health service or the store), and where it writes its own log lines.
 */

import type { HealthCheckResult } from '../domain/health.js';
import type { Labels } from '../domain/labels.js';
import type { Aggregation } from '../metrics/rollup.js';

/** One window query: the value of `metric` over [since, until), per group of `groupBy` labels. */
export interface WindowQuery {
  metric: string;
  /** Only series whose labels include these. */
  labels?: Labels;
  groupBy?: readonly string[];
  aggregation: Aggregation;
  since: number;
  until: number;
}

/** The value of one group over a window; `value` is null when there were no samples. */
export interface WindowValue {
  labels: Labels;
  value: number | null;
  count: number;
  errors: number;
}

/** The metrics engine as the alert engine sees it (the lead wires the real one in app.ts). */
export interface MetricSource {
  windowValues(q: WindowQuery): Promise<WindowValue[]>;
  /** Calls `listener` with the names of metrics that received data; may return an unsubscribe. */
  onData(listener: (metrics: ReadonlySet<string>) => void): (() => void) | undefined;
  /**
   * Told the CPU time (ms) each evaluation that an onData call started took: the metrics engine paces
   * its announcements by it.
   */
  evaluated?(cpuMs: number): void;
}

/** Health check results as the alert engine sees them. */
export interface CheckSource {
  latest(): HealthCheckResult[] | Promise<HealthCheckResult[]>;
  /** Calls `fn` with fresh results; may return an unsubscribe. */
  onResults?(fn: (results: HealthCheckResult[]) => void): (() => void) | undefined;
}

type LogFn = (obj: object, msg?: string) => void;

/** The log streams the engine writes to (a pino logger fits each). */
export interface AlertingLogger {
  app?: { info: LogFn; warn: LogFn };
  error?: { error: LogFn };
  security?: { warn: LogFn; info?: LogFn };
}

/** An event for the `security` alert type: failed logins, rate-limit hits... */
export interface SecurityEvent {
  kind: string;
  /** Who caused it (client id, API key name...); the `source` grouping falls back to `ip`. */
  source?: string;
  ip?: string;
  user?: string;
  detail?: Record<string, unknown>;
}
