/**
 * The report as one self-contained HTML file: inline CSS and SVG charts, no script, no external
 * asset (a Content-Security-Policy forbids loading any), every stored string escaped.
 */

import { escapeHtml } from '../core/html.js';
import type { PerformanceReport } from './data.js';
import { diff, int, ms, pct, period, ptChange, rate, relChange, routeName, time } from './format.js';
import { barChart, lineChart } from './svg.js';
import { alertsTable, checksTable, queriesTable, resourcesTable, routesTable, type Table } from './tables.js';

const CSS = `
:root{color-scheme:light dark;--fg:#1d2330;--muted:#667085;--bg:#fff;--card:#f5f7fa;--line:#d0d5dd;--good:#067647;--bad:#b42318}
@media (prefers-color-scheme:dark){:root{--fg:#e4e7ec;--muted:#98a2b3;--bg:#101828;--card:#1d2939;--line:#344054;--good:#47cd89;--bad:#f97066}}
*{box-sizing:border-box}body{margin:0 auto;max-width:1100px;padding:24px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.muted{color:var(--muted)}.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:10px;margin:16px 0}
.card{background:var(--card);border-radius:8px;padding:10px 12px}.card b{display:block;font-size:20px}.card small{color:var(--muted)}
.up{color:var(--bad)}.down{color:var(--good)}.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:12px}
figure{margin:0;background:var(--card);border-radius:8px;padding:8px}figcaption{font-weight:600;margin:2px 4px 4px}
svg{width:100%;height:auto;font-size:11px;fill:var(--muted)}svg .grid{stroke:var(--line);stroke-width:1}svg .empty{font-size:14px}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}td.msg{text-align:left;white-space:normal}
.sev-critical,.sev-high{color:var(--bad);font-weight:600}`;

/** A summary card; `worse` says whether a rise is bad (red) or good. */
function card(label: string, value: string, change: string, rising: boolean | null, worse = true): string {
  const cls = rising === null ? '' : rising === worse ? 'up' : 'down';
  return `<div class="card"><small>${escapeHtml(label)}</small><b>${escapeHtml(value)}</b><small class="${cls}">${escapeHtml(change)} vs previous</small></div>`;
}

function table({ head, rows }: Table, msgCol = -1): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const tr = rows
    .map(
      (r) =>
        `<tr>${r.map((c, i) => `<td${i === msgCol ? ' class="msg"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table>`;
}

const rises = (a: number | null, b: number | null) => (a === null || b === null || a === b ? null : a > b);

/** Renders the report as a standalone HTML document. */
export function renderHtml(r: PerformanceReport, o: { timeZone?: string } = {}): string {
  const c = r.current.overall;
  const p = r.previous.overall;
  const tz = o.timeZone;
  const short = r.periodMs <= 2 * 86_400_000;
  const fmtX = (t: number) => (short ? time(t, tz).slice(11) : time(t, tz).slice(5, 10));
  const pts = r.series.points;
  const prev = r.series.previous;
  const when = (f: (x: (typeof pts)[number]) => number | null) => (list: typeof pts) =>
    list.map((x): [number, number | null] => [x.t, f(x)]);
  const chart = (
    title: string,
    fmtY: (v: number) => string,
    lines: Parameters<typeof lineChart>[0]['lines'],
  ) => lineChart({ title, lines, from: r.since, to: r.until, fmtY, fmtX });
  const charts = [
    chart('Throughput (requests/s)', (v) => rate(v), [
      { name: 'this period', color: '#2e90fa', points: when((x) => x.throughput)(pts) },
      { name: 'previous period', color: '#98a2b3', dashed: true, points: when((x) => x.throughput)(prev) },
    ]),
    chart('Latency (ms)', (v) => ms(v), [
      { name: 'p50', color: '#12b76a', points: when((x) => x.p50)(pts) },
      { name: 'p95', color: '#f79009', points: when((x) => x.p95)(pts) },
      { name: 'p99', color: '#f04438', points: when((x) => x.p99)(pts) },
      { name: 'p95 previous', color: '#98a2b3', dashed: true, points: when((x) => x.p95)(prev) },
    ]),
    chart('Error rate', (v) => pct(v, 1), [
      { name: 'this period', color: '#f04438', points: when((x) => x.errorRate)(pts) },
      { name: 'previous period', color: '#98a2b3', dashed: true, points: when((x) => x.errorRate)(prev) },
    ]),
    chart('Resources (%)', (v) => `${v.toFixed(0)}%`, [
      { name: 'host CPU', color: '#7a5af8', points: when((x) => x.cpu)(pts) },
      { name: 'memory', color: '#0ba5ec', points: when((x) => x.memory)(pts) },
    ]),
    chart('Query p95 (ms)', (v) => ms(v), [
      { name: 'queries p95', color: '#ee46bc', points: when((x) => x.queryP95)(pts) },
    ]),
    barChart({
      title: 'Slowest routes (p95)',
      color: '#f79009',
      fmt: ms,
      bars: r.current.slowest.map((g) => ({ label: routeName(g.labels), value: g.figures.p95 ?? 0 })),
    }),
  ].join('');
  const title = `prodmon performance report — ${time(r.since, tz)} to ${time(r.until, tz, true)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${CSS}</style></head><body>
<h1>Performance report</h1>
<div class="muted">${escapeHtml(time(r.since, tz))} to ${escapeHtml(time(r.until, tz, true))} (${escapeHtml(period(r.periodMs))}), compared with the ${escapeHtml(period(r.periodMs))} before · instances: ${escapeHtml(r.current.instances.join(', ') || 'no data')} · generated ${escapeHtml(time(r.generatedAt, tz, true))}</div>
<div class="cards">
${card('Requests', int(c.count), relChange(c.count, p.count), null)}
${card('Throughput', `${rate(c.throughput)}/s`, relChange(c.throughput, p.throughput), null)}
${card('Error rate', pct(c.errorRate), ptChange(c.errorRate, p.errorRate), rises(c.errorRate, p.errorRate))}
${card('Latency p95', ms(c.p95), relChange(c.p95, p.p95), rises(c.p95, p.p95))}
${card('Latency p99', ms(c.p99), relChange(c.p99, p.p99), rises(c.p99, p.p99))}
${card('Query p95', ms(r.current.queries.overall.p95), relChange(r.current.queries.overall.p95, r.previous.queries.overall.p95), rises(r.current.queries.overall.p95, r.previous.queries.overall.p95))}
${card('Alerts', int(r.alerts.total), diff(r.alerts.total, r.alerts.previousTotal), rises(r.alerts.total, r.alerts.previousTotal))}
${card('Check failures', int(r.checks.failures), diff(r.checks.failures, r.checks.previousFailures), rises(r.checks.failures, r.checks.previousFailures))}
</div>
<div class="charts">${charts}</div>
<h2>Routes</h2>
${table(routesTable(r, 100))}
<h2>Database queries</h2>
${table(queriesTable(r, 50))}
<h2>Resources</h2>
${table(resourcesTable(r))}
<h2>Alerts (${r.alerts.total}; firing ${escapeHtml(period(r.alerts.firingMs))} in all)</h2>
${table(alertsTable(r, { timeZone: tz, max: 200 }), 5)}
<h2>Health checks (${r.checks.runs} runs, ${r.checks.failures} failures)</h2>
${table(checksTable(r, { timeZone: tz }), 6)}
</body></html>
`;
}
