/** The overview page's sections: status banner, health checks, performance. */

import { deployTitle } from '../../core/format.js';
import { SEVERITIES } from '../../domain/alert.js';
import type { Deployment } from '../../domain/deployment.js';
import type { ChartMarker } from '../charts.js';
import type { BannerStatus, CheckView, PerformanceView, RangeKey, StatusView } from '../data.js';
import { alertLevel, RANGES } from '../data.js';
import { html, jsonForScript, type SafeHtml } from '../html.js';
import { alertLink } from './alerts.js';
import { ago, badge, dur, empty, figure, NO_DATA, num, type SparkMark, spark, time } from './format.js';
import type { Paths } from './layout.js';

/** The banner's words for each state. */
const STATE_TEXT: Record<BannerStatus, string> = {
  healthy: 'Healthy',
  degraded: 'Degraded',
  unhealthy: 'Unhealthy',
  'no-data': 'No data',
};

/** Why the banner shows what it shows: the firing alert it names, or the checks. */
function bannerReason(s: StatusView, paths: Paths): SafeHtml | string {
  const a = s.alert;
  if (a && alertLevel(a.severity) === s.status) {
    const more = s.alerts.firing > 1 ? ` and ${s.alerts.firing - 1} more` : '';
    return html`<a class="banner-alert" href="${alertLink(paths, a.id)}" data-alert-rule="${a.rule}">${a.severity} alert firing: <strong>${a.rule}</strong></a>${a.silenced ? ' (silenced)' : ''}${more}`;
  }
  if (s.status === 'no-data') {
    return s.checks.total === 0
      ? 'No check has run yet and no alert is firing.'
      : `${s.checks.noData} of ${s.checks.total} checks have no result yet.`;
  }
  return '';
}

/** The status banner: the worst of the checks and the firing alerts (see {@link StatusView}). */
export function bannerSection(s: StatusView, now: number, paths: Paths): SafeHtml {
  const counts = SEVERITIES.slice()
    .reverse()
    .filter((sev) => s.alerts.bySeverity[sev] > 0)
    .map((sev) => html`<a href="#active-alerts" class="badge ${sev}">${s.alerts.bySeverity[sev]} ${sev}</a>`);
  const c = s.checks;
  const checks =
    c.total === 0
      ? html`Checks: ${NO_DATA}`
      : html`Checks: ${c.healthy} healthy · ${c.degraded} degraded · ${c.unhealthy} unhealthy${c.noData > 0 ? html` · ${c.noData} ${NO_DATA}` : ''}`;
  return html`<div class="banner ${s.status}" data-status="${s.status}">
<div><div class="state">${STATE_TEXT[s.status]}</div>
<div class="small">${s.since !== null ? html`since ${time(s.since)} (${dur(now - s.since)})` : ''}</div></div>
<div class="reason">${bannerReason(s, paths)}</div>
<div class="counts" aria-label="Active alerts by severity">${
    s.alerts.firing === 0
      ? html`<span>No firing alerts</span>`
      : html`<span>${s.alerts.firing} firing:</span> ${counts}`
  }${s.alerts.pending ? html` <span class="badge pending">${s.alerts.pending} pending</span>` : ''}${
    s.alerts.silenced ? html` <span class="badge silenced">${s.alerts.silenced} silenced</span>` : ''
  }</div>
<div class="small counts">${checks}</div>
</div>`;
}

/**
 * Where the deploy markers fall on a check's sparkline: its points are the starts of equal slots from
 * `recentSince` (none when its values are stored results, which no clock places).
 */
export function sparkMarks(c: CheckView, deploys: readonly Deployment[], spanMs: number): SparkMark[] {
  const n = c.recent.length;
  if (c.recentSince === null || n < 2) return [];
  const step = Math.ceil(spanMs / n);
  return deploys
    .filter((d) => d.at >= c.recentSince! && d.at <= c.recentSince! + spanMs)
    .map((d) => ({
      x: (d.at - c.recentSince!) / step / (n - 1),
      title: deployTitle({ ...d, atMs: d.at }),
    }));
}

/**
 * The health checks table; checks without a result yet are listed with "no data". `deploys` (of the
 * sparklines' hour, `spanMs`) are drawn on each check's sparkline.
 */
export function checksSection(
  checks: readonly CheckView[],
  now: number,
  pending: readonly string[] = [],
  deploys: readonly Deployment[] = [],
  spanMs = 3_600_000,
): SafeHtml {
  if (checks.length === 0 && pending.length === 0) {
    return empty(html`No health check has run yet. Checks are listed under <code>health.checks</code> in
<code>prodmon.yaml</code> (for example <code>{ name: db, kind: postgres, url: "\${DATABASE_URL}" }</code>); the
built-in disk, memory, CPU, event-loop and self checks run unless <code>health.builtin_checks</code> is false.`);
  }
  return html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">Check</th><th scope="col">Status</th><th scope="col" class="num">Response</th><th scope="col">Last hour</th><th scope="col">Last checked</th><th scope="col">Error</th></tr></thead>
<tbody>${checks.map(
    (c) => html`<tr data-check="${c.name}">
<td><strong>${c.name}</strong> <span class="muted small">${[c.kind === c.name ? '' : c.kind, c.critical ? '' : 'non-critical'].filter(Boolean).join(' · ')}</span></td>
<td data-label="Status">${badge(c.status === 'unhealthy' && !c.critical ? 'degraded' : c.status, c.status)}</td>
<td class="num" data-label="Response">${figure(c.responseTimeMs, 'ms')}</td>
<td data-label="Last hour">${spark(c.recent, `${c.name} response time`, sparkMarks(c, deploys, spanMs))}</td>
<td data-label="Checked">${time(c.checkedAt)} <span class="muted small">${ago(c.checkedAt, now)}</span></td>
<td class="error">${c.error ?? ''}</td>
</tr>`,
  )}${pending.map(
    (name) => html`<tr data-check="${name}" data-pending="true">
<td><strong>${name}</strong></td>
<td data-label="Status">${badge('no-data', NO_DATA)}</td>
<td class="num" data-label="Response">${NO_DATA}</td>
<td data-label="Last hour"><span class="no-data">${NO_DATA}</span></td>
<td data-label="Checked"><span class="muted">not run yet</span></td>
<td class="error"></td>
</tr>`,
  )}</tbody></table></div>`;
}

/** The period picker (links, so it works without script and with the keyboard). */
export function rangePicker(current: RangeKey, href: (k: RangeKey) => string): SafeHtml {
  return html`<nav class="picker" aria-label="Period">${(Object.keys(RANGES) as RangeKey[]).map(
    (k) =>
      html`<a href="${href(k)}"${k === current ? html` aria-current="true"` : ''}>${RANGES[k].label}</a>`,
  )}</nav>`;
}

function stat(label: string, value: string): SafeHtml {
  return html`<div class="stat"><div class="label">${label}</div><div class="value${value === NO_DATA ? ' no-data' : ''}">${value}</div></div>`;
}

/** The deploys a period's charts mark, as text (the charts are pictures): the newest ten, linked to the list. */
function deploysLine(markers: readonly ChartMarker[], deploymentsHref: string): SafeHtml | string {
  if (markers.length === 0) return '';
  const newest = markers.slice(-10).reverse();
  const more = markers.length - newest.length;
  return html`<p class="small deploys-line">Deploys in this period (dashed lines on the charts): ${newest.map(
    (m, i) =>
      html`${i ? ', ' : ''}<span class="deploy-item" title="${deployTitle({ ...m, atMs: m.at * 1000 })}"><strong>${m.version}</strong>${m.instance ? ` on ${m.instance}` : ''} ${time(m.at * 1000)}</span>`,
  )}${more > 0 ? ` and ${more} more` : ''} · <a href="${deploymentsHref}">All deployments</a></p>`;
}

/**
 * The performance section: figures, charts (with the period's deploy `markers`), slowest routes,
 * queries, resources.
 */
export function performanceSection(
  p: PerformanceView,
  picker: SafeHtml,
  markers: readonly ChartMarker[] = [],
  deploymentsHref = '',
): SafeHtml {
  const o = p.summary.overall;
  const label = RANGES[p.range].label;
  const sys = p.summary.system;
  const noRequests =
    o.count === 0
      ? empty(html`No requests recorded in the last ${label}. Record them by mounting prodmon's middleware first in your
app (<code>app.use(monitor.middleware())</code> for Express, <code>monitor.koa()</code>, <code>monitor.fastifyPlugin</code>),
or set <code>metrics.push</code> in an embedded monitor to send its data to this one.`)
      : '';
  const charts = p.charts.charts;
  // No request recorded: their figures are missing, not zero (the middleware may not even be mounted).
  const requests = o.count > 0;
  return html`<div class="section-head"><h2 id="perf-h">Performance</h2>${picker}</div>
<div class="stats">
${stat('Requests', requests ? num(o.count) : NO_DATA)}
${stat('Throughput', requests ? figure(o.throughput, 'req/s') : NO_DATA)}
${stat('Error rate', requests ? figure(o.errorRate * 100, '%') : NO_DATA)}
${stat('p50', figure(o.p50, 'ms'))}
${stat('p95', figure(o.p95, 'ms'))}
${stat('p99', figure(o.p99, 'ms'))}
${stat('CPU (host)', figure(sys.cpuHost.last, '%'))}
${stat('Memory', figure(sys.memory.last, '%'))}
${stat('Event loop lag', figure(sys.eventLoopLag.last, 'ms'))}
</div>
${noRequests}
<div class="grid">${charts.map(
    (
      c,
    ) => html`<figure class="card chart-card"><h3>${c.title} <span class="muted small">(${c.unit})</span></h3>
<div class="chart" data-chart="${c.id}" role="img" aria-label="${c.title} over the last ${label}"></div></figure>`,
  )}</div>
${deploysLine(markers, deploymentsHref)}
<script type="application/json" id="chart-data">${jsonForScript({ times: p.charts.times, charts, markers })}</script>
<div class="grid">
<div><h3>Slowest routes (p95)</h3>${routesTable(p.summary.slowest, 'No route has recorded requests in this period.')}</div>
<div><h3>Database queries</h3>${queriesTable(p)}</div>
</div>
<h3>Busiest routes</h3>${routesTable(p.summary.routes.slice(0, 25), 'No route has recorded requests in this period.')}
<h3>Disks</h3>${
    sys.disks.length === 0
      ? empty(
          html`No disk usage sampled yet; prodmon samples the data directory's file system and the paths in <code>metrics.disk_paths</code>.`,
        )
      : html`<div class="table-wrap"><table><thead><tr><th scope="col">Path</th><th scope="col" class="num">Used</th><th scope="col" class="num">Max</th><th scope="col" class="num">Free</th></tr></thead><tbody>${sys.disks.map(
          (d) =>
            html`<tr><td class="route">${d.path}</td><td class="num">${figure(d.usedPercent.last, '%')}</td><td class="num">${figure(d.usedPercent.max, '%')}</td><td class="num">${figure(d.freeBytes.last, 'bytes')}</td></tr>`,
        )}</tbody></table></div>`
  }`;
}

function routesTable(rows: PerformanceView['summary']['routes'], none: string): SafeHtml {
  if (rows.length === 0) return empty(none);
  return html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Route</th><th scope="col" class="num">Requests</th><th scope="col" class="num hide-narrow">Errors</th><th scope="col" class="num">p50</th><th scope="col" class="num">p95</th><th scope="col" class="num hide-narrow">p99</th></tr></thead>
<tbody>${rows.map(
    (
      r,
    ) => html`<tr><td class="route">${r.labels.method ? html`<span class="muted">${r.labels.method}</span> ` : ''}${r.labels.route ?? ''}</td>
<td class="num">${num(r.figures.count)}</td><td class="num hide-narrow">${r.figures.count > 0 ? figure(r.figures.errorRate * 100, '%') : NO_DATA}</td>
<td class="num">${figure(r.figures.p50, 'ms')}</td><td class="num">${figure(r.figures.p95, 'ms')}</td><td class="num hide-narrow">${figure(r.figures.p99, 'ms')}</td></tr>`,
  )}</tbody></table></div>`;
}

function queriesTable(p: PerformanceView): SafeHtml {
  const rows = p.summary.queries.byDatabase;
  if (rows.length === 0) {
    return empty(html`No database queries recorded. Wrap your client: <code>monitor.instrumentPg(pool)</code>,
<code>monitor.instrumentMysql(pool)</code>, <code>monitor.instrumentSqlite(db)</code> or <code>monitor.timeQuery('redis', fn)</code>.`);
  }
  return html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Database</th><th scope="col">Operation</th><th scope="col" class="num">Queries</th><th scope="col" class="num">p50</th><th scope="col" class="num">p95</th><th scope="col" class="num hide-narrow">max</th></tr></thead>
<tbody>${rows.slice(0, 25).map(
    (
      r,
    ) => html`<tr><td class="route">${r.labels.db ?? ''}</td><td>${r.labels.operation ?? ''}</td><td class="num">${num(r.figures.count)}</td>
<td class="num">${figure(r.figures.p50, 'ms')}</td><td class="num">${figure(r.figures.p95, 'ms')}</td><td class="num hide-narrow">${figure(r.figures.max, 'ms')}</td></tr>`,
  )}</tbody></table></div>`;
}
