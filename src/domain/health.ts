/** Health checks: what one run of a check found, and the overall status they make. */

/** The answer of a health check. */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

export const HEALTH_STATUSES: readonly HealthStatus[] = ['healthy', 'degraded', 'unhealthy'];

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

/** A stored result, with its id. */
export type StoredCheckResult = HealthCheckResult & { id: string };

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
