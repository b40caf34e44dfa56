/** The report as plain text (aligned columns, no colours: it goes to files and pipes as well). */
import type { ResourceFigures } from '../metrics/summary.js';
import type { PerformanceReport } from './data.js';
import {
  bytes,
  diff,
  int,
  ms,
  pct,
  percent,
  period,
  ptChange,
  rate,
  relChange,
  routeName,
  time,
} from './format.js';

/** Control characters (terminal escapes, newlines) from stored text become spaces. */
export function clean(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
}

/** Left-aligned first column, right-aligned others. */
export function columns(rows: string[][], indent = '  '): string {
  rows = rows.map((r) => r.map(clean));
  const widths: number[] = [];
  for (const r of rows) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  }
  return rows
    .map(
      (r) =>
        indent +
        r
          .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
          .join('  ')
          .trimEnd(),
    )
    .join('\n');
}

function resourceRow(name: string, f: ResourceFigures, fmt: (v: number | null) => string): string[] {
  return [name, fmt(f.avg), fmt(f.p95), fmt(f.max), fmt(f.last)];
}

/** Renders the report as text. */
export function renderText(r: PerformanceReport, o: { timeZone?: string } = {}): string {
  const c = r.current.overall;
  const p = r.previous.overall;
  const out: string[] = [];
  out.push('prodmon performance report');
  out.push(
    `period: ${time(r.since, o.timeZone)} to ${time(r.until, o.timeZone, true)} (${period(r.periodMs)}), compared with the ${period(r.periodMs)} before`,
  );
  out.push(`instances: ${r.current.instances.join(', ') || '(no data)'}`);
  out.push('');
  out.push('Overall');
  out.push(
    columns([
      ['', 'this period', 'previous', 'change'],
      ['requests', int(c.count), int(p.count), relChange(c.count, p.count)],
      ['throughput (req/s)', rate(c.throughput), rate(p.throughput), relChange(c.throughput, p.throughput)],
      ['errors', int(c.errors), int(p.errors), relChange(c.errors, p.errors)],
      ['error rate', pct(c.errorRate), pct(p.errorRate), ptChange(c.errorRate, p.errorRate)],
      ['latency p50', ms(c.p50), ms(p.p50), relChange(c.p50, p.p50)],
      ['latency p95', ms(c.p95), ms(p.p95), relChange(c.p95, p.p95)],
      ['latency p99', ms(c.p99), ms(p.p99), relChange(c.p99, p.p99)],
      ['latency max', ms(c.max), ms(p.max), relChange(c.max, p.max)],
      [
        'query p95',
        ms(r.current.queries.overall.p95),
        ms(r.previous.queries.overall.p95),
        relChange(r.current.queries.overall.p95, r.previous.queries.overall.p95),
      ],
      [
        'alerts',
        int(r.alerts.total),
        int(r.alerts.previousTotal),
        diff(r.alerts.total, r.alerts.previousTotal),
      ],
      [
        'check failures',
        int(r.checks.failures),
        int(r.checks.previousFailures),
        diff(r.checks.failures, r.checks.previousFailures),
      ],
    ]),
  );
  out.push('');
  out.push(`Routes (${r.routes.length}, busiest first)`);
  if (r.routes.length === 0) out.push('  no requests recorded');
  else {
    out.push(
      columns([
        ['route', 'requests', 'req/s', 'errors', 'p50', 'p95', 'p99', 'max', 'p95 change'],
        ...r.routes
          .slice(0, 50)
          .map((x) => [
            routeName(x.labels),
            int(x.figures.count),
            rate(x.figures.throughput),
            pct(x.figures.errorRate),
            ms(x.figures.p50),
            ms(x.figures.p95),
            ms(x.figures.p99),
            ms(x.figures.max),
            relChange(x.figures.p95, x.previousP95),
          ]),
      ]),
    );
  }
  out.push('');
  out.push('Database queries');
  const q = r.current.queries;
  if (q.byDatabase.length === 0) out.push('  no queries recorded');
  else {
    out.push(
      columns([
        ['database / operation', 'queries', 'per s', 'errors', 'p50', 'p95', 'p99', 'max'],
        ...q.byDatabase
          .slice(0, 30)
          .map((g) => [
            [g.labels.db, g.labels.operation].filter(Boolean).join(' / ') || '(all)',
            int(g.figures.count),
            rate(g.figures.throughput),
            pct(g.figures.errorRate),
            ms(g.figures.p50),
            ms(g.figures.p95),
            ms(g.figures.p99),
            ms(g.figures.max),
          ]),
      ]),
    );
  }
  out.push('');
  out.push('Resources');
  const s = r.current.system;
  out.push(
    columns([
      ['', 'avg', 'p95', 'max', 'last'],
      resourceRow('host CPU', s.cpuHost, percent),
      resourceRow('process CPU', s.cpuProcess, percent),
      resourceRow('memory used', s.memory, percent),
      resourceRow('process RSS', s.processRss, bytes),
      resourceRow('heap used', s.heapUsed, bytes),
      resourceRow('event loop lag', s.eventLoopLag, ms),
      ...s.disks.map((d) => resourceRow(`disk ${d.path}`, d.usedPercent, percent)),
    ]),
  );
  out.push('');
  const sev = r.alerts.bySeverity;
  out.push(
    `Alerts: ${r.alerts.total} (previous period ${r.alerts.previousTotal}); critical ${sev.critical}, high ${sev.high}, medium ${sev.medium}, low ${sev.low}; firing ${period(r.alerts.firingMs)} in all`,
  );
  if (r.alerts.items.length > 0) {
    out.push(
      columns([
        ['started', 'severity', 'rule', 'status', 'duration', 'message'],
        ...r.alerts.items
          .slice(0, 50)
          .map((a) => [
            time(a.startedAt, o.timeZone),
            a.severity,
            a.rule,
            a.status,
            period(a.durationMs),
            a.message.slice(0, 80),
          ]),
      ]),
    );
  }
  out.push('');
  out.push(
    `Health checks: ${r.checks.runs} runs, ${r.checks.failures} failures (previous period ${r.checks.previousFailures})`,
  );
  if (r.checks.items.length > 0) {
    out.push(
      columns([
        ['check', 'runs', 'unhealthy', 'degraded', 'available', 'last failure', 'last error'],
        ...r.checks.items.map((x) => [
          x.name,
          int(x.runs),
          int(x.unhealthy),
          int(x.degraded),
          pct(x.availability, 1),
          x.lastFailureAt === null ? '-' : time(x.lastFailureAt, o.timeZone),
          (x.lastError ?? '-').slice(0, 60),
        ]),
      ]),
    );
  }
  return `${out.join('\n')}\n`;
}
