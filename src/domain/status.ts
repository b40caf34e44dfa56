/** The whole picture at one moment: health, open alerts and performance. */
import type { Severity } from './alert.js';
import type { HealthCheckResult, HealthStatus } from './health.js';

/** Latency and error figures of one route (or overall). */
export interface PerformanceFigures {
  count: number;
  errors: number;
  /** Requests per second over the period. */
  throughput: number;
  errorRate: number;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  avg: number | null;
}

/** The whole picture at one moment: what the dashboard banner and `prodmon status` show. */
export interface SystemStatus {
  status: HealthStatus;
  /** When the overall status last changed (null if unknown). */
  since: number | null;
  checks: HealthCheckResult[];
  alerts: { active: number; bySeverity: Record<Severity, number> };
  performance: PerformanceFigures | null;
  generatedAt: number;
}
