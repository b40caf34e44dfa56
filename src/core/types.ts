/** Domain types shared by every part of prodmon. */

/** How bad an alert is. */
export type Severity = 'low' | 'medium' | 'high' | 'critical';
/** What an alert is about. */
export type AlertType = 'performance' | 'error' | 'system' | 'security';
/** Where an alert is in its life. */
export type AlertStatus = 'pending' | 'firing' | 'resolved';
/** The answer of a health check. */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';
/** How an alert came to be resolved. */
export type ResolutionKind = 'auto' | 'manual' | 'stale';

export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];
export const ALERT_TYPES: readonly AlertType[] = ['performance', 'error', 'system', 'security'];
export const HEALTH_STATUSES: readonly HealthStatus[] = ['healthy', 'degraded', 'unhealthy'];

/** String labels identifying a series or an alert (route, method, check...). */
export type Labels = Record<string, string>;

/** Who resolved an alert, when and why. */
export interface Resolution {
  kind: ResolutionKind;
  /** Token or user name for manual resolutions; `prodmon` for automatic ones. */
  by: string;
  at: number;
  reason: string;
}

/** One alert: one per (rule, labels) incident, from pending to resolved. */
export interface Alert {
  id: string;
  rule: string;
  /** Stable key of (rule, labels): at most one unresolved alert per fingerprint. */
  fingerprint: string;
  type: AlertType;
  severity: Severity;
  status: AlertStatus;
  message: string;
  /** The observed value that breached (or cleared). */
  value: number | null;
  /** The threshold it was compared with. */
  threshold: number | null;
  labels: Labels;
  /** Free-form data for correlation (request ids, check details, deploy...). */
  metadata: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  /** When the alert started firing (null while pending). */
  firingAt: number | null;
  resolvedAt: number | null;
  resolution: Resolution | null;
}

/** The result of running one health check once. */
export interface HealthCheckResult {
  name: string;
  kind: string;
  status: HealthStatus;
  /** Wall time the check took, in ms. */
  responseTimeMs: number;
  /** Non-secret facts: versions, latency, pool stats, used %... */
  details: Record<string, unknown>;
  /** Why the check is not healthy (null when healthy). */
  error: string | null;
  /** Whether a failure of this check makes the whole service unhealthy (else degraded). */
  critical: boolean;
  checkedAt: number;
}

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

/** Worst of several statuses (unhealthy > degraded > healthy). */
export function worstStatus(statuses: Iterable<HealthStatus>): HealthStatus {
  let worst: HealthStatus = 'healthy';
  for (const s of statuses) {
    if (s === 'unhealthy') return 'unhealthy';
    if (s === 'degraded') worst = 'degraded';
  }
  return worst;
}

/** Overall status from check results: a failing non-critical check only degrades. */
export function overallStatus(results: Iterable<HealthCheckResult>): HealthStatus {
  const statuses: HealthStatus[] = [];
  for (const r of results) {
    statuses.push(r.status === 'unhealthy' && !r.critical ? 'degraded' : r.status);
  }
  return worstStatus(statuses);
}

/** Canonical, order-independent string form of labels (`a=1,b=2`), for keys and fingerprints. */
export function labelsKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
}
