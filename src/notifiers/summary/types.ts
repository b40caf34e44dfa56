/** The data of the daily summary e-mail (built by `buildDailySummary`, rendered by the e-mail channel). */

import type { Severity } from '../../domain/alert.js';
import type { PerformanceFigures } from '../../domain/status.js';

/** One alert in the summary's list. */
export interface SummaryAlert {
  id: string;
  rule: string;
  severity: Severity;
  status: string;
  message: string;
  firingAt: number | null;
  resolvedAt: number | null;
}

/** Failures of one health check over the period. */
export interface SummaryCheckFailures {
  name: string;
  failures: number;
  lastError: string | null;
  lastAt: number;
}

/** Overall latency and errors of a period, as the metrics engine reports them. */
export type SummaryPerformance = Pick<PerformanceFigures, 'count' | 'p95' | 'errorRate'> &
  Partial<PerformanceFigures>;

/** What the day looked like, compared with the day before. */
export interface DailySummary {
  /** The period's last day, `YYYY-MM-DD` (UTC). */
  day: string;
  since: number;
  until: number;
  alerts: {
    /** Alerts that started in the period. */
    total: number;
    bySeverity: Record<Severity, number>;
    /** Of those, still open at the end. */
    open: number;
    /** Alerts resolved in the period (wherever they started). */
    resolved: number;
    /** Mean time to resolution of the alerts resolved in the period (ms), null if none. */
    mttrMs: number | null;
    /** Mean time to resolution the period before. */
    previousMttrMs: number | null;
    /** The period's alerts, most severe first (at most 50). */
    items: SummaryAlert[];
  };
  performance: { current: SummaryPerformance | null; previous: SummaryPerformance | null };
  checks: { failures: SummaryCheckFailures[]; runs: number };
}
