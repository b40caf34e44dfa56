import type { PerformanceReport } from './data.js';
import { diff, int, ms, pct, period, ptChange, rate, relChange, time } from './format.js';
import { alertsTable, checksTable, queriesTable, resourcesTable, routesTable, type Table } from './tables.js';

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

const tableText = (t: Table) => columns([t.head, ...t.rows]);

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
    out.push(tableText(routesTable(r, 50)));
  }
  out.push('');
  out.push('Database queries');
  const q = r.current.queries;
  if (q.byDatabase.length === 0) out.push('  no queries recorded');
  else {
    out.push(tableText(queriesTable(r, 30)));
  }
  out.push('');
  out.push('Resources');
  out.push(tableText(resourcesTable(r)));
  out.push('');
  const sev = r.alerts.bySeverity;
  out.push(
    `Alerts: ${r.alerts.total} (previous period ${r.alerts.previousTotal}); critical ${sev.critical}, high ${sev.high}, medium ${sev.medium}, low ${sev.low}; firing ${period(r.alerts.firingMs)} in all`,
  );
  if (r.alerts.items.length > 0) {
    out.push(tableText(alertsTable(r, { timeZone: o.timeZone, max: 50, messageMax: 80 })));
  }
  out.push('');
  out.push(
    `Health checks: ${r.checks.runs} runs, ${r.checks.failures} failures (previous period ${r.checks.previousFailures})`,
  );
  if (r.checks.items.length > 0) {
    out.push(tableText(checksTable(r, { timeZone: o.timeZone, errorMax: 60 })));
  }
  return `${out.join('\n')}\n`;
}
