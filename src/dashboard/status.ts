/**
 * The banner (pure): the overall status of the checks and since when it holds, and the worst of it and
 * the firing alerts.
 */
import { type Alert, SEVERITIES, type Severity } from '../domain/alert.js';
import { type HealthCheckResult, type HealthStatus, overallStatus } from '../domain/health.js';

/** A state of the banner: a health status, or `no-data` when what it rests on is missing. */
export type BannerStatus = HealthStatus | 'no-data';

/** Banner states from best to worst: missing data ranks above healthy, so it never shows as healthy. */
const BANNER_RANK: Record<BannerStatus, number> = { healthy: 0, 'no-data': 1, degraded: 2, unhealthy: 3 };

/** The worse of two banner states. */
export function worseOf(a: BannerStatus, b: BannerStatus): BannerStatus {
  return BANNER_RANK[b] > BANNER_RANK[a] ? b : a;
}

/** What a firing alert makes of the banner: a critical one `unhealthy` (red), any other `degraded` (amber). */
export function alertLevel(severity: Severity): HealthStatus {
  return severity === 'critical' ? 'unhealthy' : 'degraded';
}

/** The firing alert the banner names. */
export interface BannerAlert {
  id: string;
  rule: string;
  severity: Severity;
  message: string;
  silenced: boolean;
  firingAt: number;
}

/** The banner: the worst of the checks and the firing alerts, since when, alerts by severity. */
export interface StatusView {
  /** What the banner shows: the worse of `health` and the most severe firing alert's level. */
  status: BannerStatus;
  /**
   * The checks alone: their overall status, or `no-data` while a check has no result yet (or none is
   * configured) and none of the others fails.
   */
  health: BannerStatus;
  /** Since when `status` holds (null when unknown, or `no-data`). */
  since: number | null;
  /** The most severe firing alert (the oldest of equals; silenced ones count), null when none fires. */
  alert: BannerAlert | null;
  checks: { total: number; healthy: number; degraded: number; unhealthy: number; noData: number };
  alerts: { firing: number; pending: number; silenced: number; bySeverity: Record<Severity, number> };
  generatedAt: number;
}

/** What the banner reads of an alert. */
export type BannerInput = Pick<
  Alert,
  'id' | 'rule' | 'severity' | 'message' | 'status' | 'firingAt' | 'createdAt'
> & { silenced: boolean };

/**
 * When the overall status last became `current`: replays stored results (any order) and the latest
 * ones, oldest first, keeping each check's newest result, and returns the time of the last change to
 * `current` (the oldest result's time when it never changed; null without results).
 */
export function statusSince(
  history: readonly Pick<HealthCheckResult, 'name' | 'status' | 'critical' | 'checkedAt'>[],
  current: HealthStatus,
): number | null {
  if (history.length === 0) return null;
  const sorted = [...history].sort((a, b) => a.checkedAt - b.checkedAt);
  const latest = new Map<string, Pick<HealthCheckResult, 'status' | 'critical'>>();
  let since: number | null = null;
  let prev: HealthStatus | null = null;
  let i = 0;
  while (i < sorted.length) {
    const at = sorted[i]!.checkedAt;
    // Results of one run share a time: apply them together before judging.
    while (i < sorted.length && sorted[i]!.checkedAt === at) {
      const r = sorted[i]!;
      latest.set(r.name, r);
      i++;
    }
    const s = overallStatus(latest.values() as Iterable<HealthCheckResult>);
    if (s !== prev) {
      if (s === current) since = at;
      prev = s;
    }
  }
  return prev === current ? since : null;
}

/**
 * The banner from the checks' latest results, the open alerts, when the checks' overall status last
 * changed (`since`) and the checks without a result yet (`pending`): the worse of the checks' status
 * (`no-data` while a check is pending or none has run, unless one already fails) and the most severe
 * firing alert (critical: `unhealthy`, any other: `degraded`), silenced ones included.
 */
export function banner(
  checks: readonly HealthCheckResult[],
  alerts: readonly BannerInput[],
  since: number | null,
  pending: readonly string[] = [],
): Omit<StatusView, 'generatedAt'> {
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  let firing = 0;
  let pendingAlerts = 0;
  let silenced = 0;
  let worst: BannerInput | null = null;
  const rank = (s: Severity) => SEVERITIES.indexOf(s);
  const firedAt = (a: BannerInput) => a.firingAt ?? a.createdAt;
  for (const a of alerts) {
    if (a.status === 'pending') pendingAlerts++;
    else if (a.status === 'firing') {
      firing++;
      bySeverity[a.severity]++;
      if (a.silenced) silenced++;
      const d = worst ? rank(a.severity) - rank(worst.severity) : 1;
      if (!worst || d > 0 || (d === 0 && firedAt(a) < firedAt(worst))) worst = a;
    }
  }
  const count = (s: HealthStatus) =>
    checks.filter((c) => (c.status === 'unhealthy' && !c.critical ? 'degraded' : c.status) === s).length;
  const known: BannerStatus = checks.length > 0 ? overallStatus(checks) : 'no-data';
  const health = pending.length > 0 ? worseOf(known, 'no-data') : known;
  const status = worseOf(health, worst ? alertLevel(worst.severity) : 'healthy');
  // Since when: the first of the alerts and the checks' status that put the banner at its level.
  const starts = alerts
    .filter((a) => a.status === 'firing' && alertLevel(a.severity) === status)
    .map(firedAt);
  if (health === status && since !== null) starts.push(since);
  return {
    status,
    health,
    since: status === 'no-data' || starts.length === 0 ? null : Math.min(...starts),
    alert: worst
      ? {
          id: worst.id,
          rule: worst.rule,
          severity: worst.severity,
          message: worst.message,
          silenced: worst.silenced,
          firingAt: firedAt(worst),
        }
      : null,
    checks: {
      total: checks.length + pending.length,
      healthy: count('healthy'),
      degraded: count('degraded'),
      unhealthy: count('unhealthy'),
      noData: pending.length,
    },
    alerts: { firing, pending: pendingAlerts, silenced, bySeverity },
  };
}
