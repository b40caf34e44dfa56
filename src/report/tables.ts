/**
 * The report's tables as text cells, the same for the text and the HTML report (each lays them out and
 * escapes them its own way): routes, database queries, resources, alerts, health checks.
 */
import type { PerformanceFigures } from '../domain/status.js';
import type { ResourceFigures } from '../metrics/summary.js';
import type { PerformanceReport } from './data.js';
import { bytes, int, ms, pct, percent, period, rate, relChange, routeName, time } from './format.js';

/** A header row and body rows. */
export interface Table {
  head: string[];
  rows: string[][];
}

/** `text` cut to `max` characters (no limit by default). */
const cut = (text: string, max = Number.POSITIVE_INFINITY) => (text.length > max ? text.slice(0, max) : text);

/** Count, rate, error rate and latencies of a route or a query group (the columns after its name). */
function figureCells(f: PerformanceFigures): string[] {
  return [int(f.count), rate(f.throughput), pct(f.errorRate), ms(f.p50), ms(f.p95), ms(f.p99), ms(f.max)];
}

/** The busiest routes (at most `max`). */
export function routesTable(r: PerformanceReport, max: number): Table {
  return {
    head: ['route', 'requests', 'req/s', 'errors', 'p50', 'p95', 'p99', 'max', 'p95 change'],
    rows: r.routes
      .slice(0, max)
      .map((x) => [routeName(x.labels), ...figureCells(x.figures), relChange(x.figures.p95, x.previousP95)]),
  };
}

/** Queries by database and operation (at most `max`). */
export function queriesTable(r: PerformanceReport, max: number): Table {
  return {
    head: ['database / operation', 'queries', 'per s', 'errors', 'p50', 'p95', 'p99', 'max'],
    rows: r.current.queries.byDatabase
      .slice(0, max)
      .map((g) => [
        [g.labels.db, g.labels.operation].filter(Boolean).join(' / ') || '(all)',
        ...figureCells(g.figures),
      ]),
  };
}

/** Host and process resources: average, p95, max and last of each. */
export function resourcesTable(r: PerformanceReport): Table {
  const s = r.current.system;
  const row = (name: string, f: ResourceFigures, fmt: (v: number | null) => string) => [
    name,
    fmt(f.avg),
    fmt(f.p95),
    fmt(f.max),
    fmt(f.last),
  ];
  return {
    head: ['', 'avg', 'p95', 'max', 'last'],
    rows: [
      row('host CPU', s.cpuHost, percent),
      row('process CPU', s.cpuProcess, percent),
      row('memory used', s.memory, percent),
      row('process RSS', s.processRss, bytes),
      row('heap used', s.heapUsed, bytes),
      row('event loop lag', s.eventLoopLag, ms),
      ...s.disks.map((d) => row(`disk ${d.path}`, d.usedPercent, percent)),
    ],
  };
}

/** The period's alerts, newest first (at most `max`, messages cut to `messageMax` characters). */
export function alertsTable(
  r: PerformanceReport,
  o: { timeZone?: string; max: number; messageMax?: number },
): Table {
  return {
    head: ['started', 'severity', 'rule', 'status', 'duration', 'message'],
    rows: r.alerts.items
      .slice(0, o.max)
      .map((a) => [
        time(a.startedAt, o.timeZone),
        a.severity,
        a.rule,
        a.status,
        period(a.durationMs),
        cut(a.message, o.messageMax),
      ]),
  };
}

/** Health checks: runs, failures, availability, last failure (errors cut to `errorMax` characters). */
export function checksTable(r: PerformanceReport, o: { timeZone?: string; errorMax?: number }): Table {
  return {
    head: ['check', 'runs', 'unhealthy', 'degraded', 'available', 'last failure', 'last error'],
    rows: r.checks.items.map((x) => [
      x.name,
      int(x.runs),
      int(x.unhealthy),
      int(x.degraded),
      pct(x.availability, 1),
      x.lastFailureAt === null ? '-' : time(x.lastFailureAt, o.timeZone),
      cut(x.lastError ?? '-', o.errorMax),
    ]),
  };
}
