/**
 * The performance report of a period: throughput, error rate and latency percentiles per route and
 * overall, query times, resource usage, alerts with their durations, health check failures, a time
 * series for the charts, and the change against the previous period of the same length.
 */
import { systemClock } from '../core/clock.js';
import type { Alert, Severity } from '../domain/alert.js';
import { type ReadRange, type RollupEntry, readEntries, readRange } from '../metrics/read.js';
import { Recorder } from '../metrics/recorder.js';
import { MINUTE_MS } from '../metrics/rollup.js';
import {
  type GroupFigures,
  type PerformanceSummary,
  SUMMARY_METRICS,
  summarize,
} from '../metrics/summary.js';
import type { Store } from '../store/index.js';
import { buildSeries, type SeriesPoint } from './series.js';

/** Where the report reads rollups from. */
export interface ReportMetrics {
  /** Every bucket of `metrics` in the range, all instances. */
  entries(metrics: readonly string[], range: ReadRange): Promise<RollupEntry[]>;
}

/** Rollups straight from the store (the CLI: no process memory to merge). */
export function storeMetrics(store: Store): ReportMetrics {
  const recorder = new Recorder({ clock: systemClock, instance: '(report)', maxSeries: 10 });
  return { entries: (metrics, range) => readEntries({ store, recorder }, metrics, range) };
}

/** One alert active in the period, with how long it fired. */
export interface ReportAlert {
  id: string;
  rule: string;
  severity: Severity;
  status: Alert['status'];
  message: string;
  startedAt: number;
  resolvedAt: number | null;
  /** Firing (or pending) time inside the period, ms. */
  durationMs: number;
}

/** Failures of one health check in the period. */
export interface ReportCheck {
  name: string;
  runs: number;
  unhealthy: number;
  degraded: number;
  /** Share of runs that were healthy (null without runs). */
  availability: number | null;
  lastError: string | null;
  lastFailureAt: number | null;
}

/** A route's figures with its p95 and request count the period before. */
export type ReportRoute = GroupFigures & { previousP95: number | null; previousCount: number };

/** Everything the three formats render. */
export interface PerformanceReport {
  generatedAt: number;
  since: number;
  until: number;
  periodMs: number;
  current: PerformanceSummary;
  previous: PerformanceSummary;
  routes: ReportRoute[];
  /** The period in steps; `previous` is the period before, its times moved forward by one period to overlay. */
  series: { stepMs: number; points: SeriesPoint[]; previous: SeriesPoint[] };
  alerts: {
    total: number;
    previousTotal: number;
    bySeverity: Record<Severity, number>;
    /** Sum of firing time, ms. */
    firingMs: number;
    items: ReportAlert[];
  };
  checks: { runs: number; failures: number; previousFailures: number; items: ReportCheck[] };
}

const LOOKBACK_MS = 30 * 86_400_000;

async function alertsIn(store: Store, since: number, until: number): Promise<ReportAlert[]> {
  // Alerts that started before the period but were still open in it count too.
  const { items } = await store.alerts.list({ since: since - LOOKBACK_MS, until, limit: 5000 });
  const out: ReportAlert[] = [];
  for (const a of items) {
    const start = a.firingAt ?? a.createdAt;
    const end = a.resolvedAt ?? Number.POSITIVE_INFINITY;
    if (end < since || start >= until) continue;
    out.push({
      id: a.id,
      rule: a.rule,
      severity: a.severity,
      status: a.status,
      message: a.message,
      startedAt: start,
      resolvedAt: a.resolvedAt,
      durationMs: Math.max(0, Math.min(end, until) - Math.max(start, since)),
    });
  }
  return out.sort((x, y) => y.startedAt - x.startedAt);
}

async function checksIn(store: Store, since: number, until: number): Promise<ReportCheck[]> {
  const rows = await store.checks.history({ since, until, limit: 100_000 });
  const by = new Map<string, ReportCheck>();
  for (const r of rows) {
    let c = by.get(r.name);
    if (!c) {
      c = {
        name: r.name,
        runs: 0,
        unhealthy: 0,
        degraded: 0,
        availability: null,
        lastError: null,
        lastFailureAt: null,
      };
      by.set(r.name, c);
    }
    c.runs++;
    if (r.status === 'unhealthy') c.unhealthy++;
    if (r.status === 'degraded') c.degraded++;
    if (r.status !== 'healthy' && (c.lastFailureAt === null || r.checkedAt > c.lastFailureAt)) {
      c.lastFailureAt = r.checkedAt;
      c.lastError = r.error;
    }
  }
  for (const c of by.values())
    c.availability = c.runs > 0 ? (c.runs - c.unhealthy - c.degraded) / c.runs : null;
  return [...by.values()].sort(
    (a, b) => b.unhealthy + b.degraded - (a.unhealthy + a.degraded) || a.name.localeCompare(b.name),
  );
}

const routeKey = (g: GroupFigures) => JSON.stringify(g.labels);

/** Builds the report of [since, until) and its comparison with the period before. */
export async function buildReport(
  o: { store: Store; metrics?: ReportMetrics },
  q: { since: number; until: number; now: number; groupBy?: readonly string[] },
): Promise<PerformanceReport> {
  const metrics = o.metrics ?? storeMetrics(o.store);
  const periodMs = q.until - q.since;
  const prevSince = q.since - periodMs;
  const range = readRange(q.since, q.until);
  // The previous period ends where this one's first bucket starts, so no bucket counts in both.
  const prevRange = readRange(prevSince, range.from);
  const [entries, prevEntries] = await Promise.all([
    metrics.entries(SUMMARY_METRICS, range),
    metrics.entries(SUMMARY_METRICS, prevRange),
  ]);
  const current = summarize(entries, { ...range, since: q.since }, q.groupBy);
  const previous = summarize(prevEntries, { ...prevRange, since: prevSince }, q.groupBy);
  const prevRoutes = new Map(previous.routes.map((r) => [routeKey(r), r.figures]));
  const routes = current.routes.map((r) => {
    const p = prevRoutes.get(routeKey(r));
    return { ...r, previousP95: p?.p95 ?? null, previousCount: p?.count ?? 0 };
  });
  const [alerts, prevAlerts, checks, prevChecks] = await Promise.all([
    alertsIn(o.store, q.since, q.until),
    alertsIn(o.store, prevSince, q.since),
    checksIn(o.store, q.since, q.until),
    checksIn(o.store, prevSince, q.since),
  ]);
  const bySeverity: Record<Severity, number> = { low: 0, medium: 0, high: 0, critical: 0 };
  for (const a of alerts) bySeverity[a.severity]++;
  const failures = (cs: ReportCheck[]) => cs.reduce((n, c) => n + c.unhealthy + c.degraded, 0);
  const stepMs = Math.max(MINUTE_MS, Math.ceil(periodMs / 60 / MINUTE_MS) * MINUTE_MS);
  return {
    generatedAt: q.now,
    since: q.since,
    until: q.until,
    periodMs,
    current,
    previous,
    routes,
    series: {
      stepMs,
      points: buildSeries(entries, { since: q.since, until: q.until, stepMs }),
      previous: buildSeries(prevEntries, { since: prevSince, until: q.since, stepMs }).map((pt) => ({
        ...pt,
        t: pt.t + periodMs,
      })),
    },
    alerts: {
      total: alerts.length,
      previousTotal: prevAlerts.length,
      bySeverity,
      firingMs: alerts.reduce((n, a) => n + a.durationMs, 0),
      items: alerts,
    },
    checks: {
      runs: checks.reduce((n, c) => n + c.runs, 0),
      failures: failures(checks),
      previousFailures: failures(prevChecks),
      items: checks,
    },
  };
}

/** Relative change from `before` to `now` (0.25 = +25 %), null when there is no base. */
export function change(now: number | null, before: number | null): number | null {
  if (now === null || before === null || before === 0) return null;
  return (now - before) / before;
}
