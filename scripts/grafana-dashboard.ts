/**
 * Builds prodmon's Grafana dashboard from the families of its `/metrics`, with the Grafana Foundation
 * SDK, and writes it to grafana/prodmon-dashboard.json:
 *
 *   node --import tsx scripts/grafana-dashboard.ts
 *
 * The dashboard asks for its Prometheus data source (`${datasource}`) and filters by `job` and
 * `instance`; its uid is fixed, so re-importing it replaces the previous version.
 * `test/grafana-dashboard.test.ts` checks that the committed file is what this script writes.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  DashboardBuilder,
  DashboardCursorSync,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  RowBuilder,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';

/** The dashboard's uid: stable, so an import replaces the previous version instead of adding one. */
export const DASHBOARD_UID = 'prodmon-overview';
/** Where the generated dashboard is committed. */
export const DASHBOARD_FILE = fileURLToPath(new URL('../grafana/prodmon-dashboard.json', import.meta.url));

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
/** The job and instance selection of every query. */
const SEL = 'job=~"$job", instance=~"$instance"';
const RATE = '[$__rate_interval]';

interface Query {
  expr: string;
  legend?: string;
}

const target = (q: Query, i: number) => {
  const b = new DataqueryBuilder()
    .datasource(DATASOURCE)
    .expr(q.expr)
    .refId(String.fromCharCode(65 + i));
  return q.legend ? b.legendFormat(q.legend) : b;
};

/** A time series panel of `queries`, `w` columns wide (of 24). */
function series(title: string, unit: string, queries: Query[], w = 8, description?: string) {
  const p = new TimeseriesBuilder()
    .title(title)
    .datasource(DATASOURCE)
    .unit(unit)
    .height(8)
    .span(w)
    .fillOpacity(10)
    .lineWidth(1);
  if (description) p.description(description);
  queries.forEach((q, i) => {
    p.withTarget(target(q, i));
  });
  return p;
}

/** A stat panel of one query (its latest value, with a sparkline). */
function stat(title: string, unit: string, q: Query, w = 6, description?: string) {
  const p = new StatBuilder().title(title).datasource(DATASOURCE).unit(unit).height(4).span(w);
  if (description) p.description(description);
  return p.withTarget(target(q, 0));
}

const p95 = (family: string, by: string) =>
  `histogram_quantile(0.95, sum by (${by}) (rate(${family}_bucket{${SEL}}${RATE})))`;
const rate = (family: string, by?: string) =>
  `sum${by ? ` by (${by})` : ''} (rate(${family}{${SEL}}${RATE}))`;

/** Labels a panel breaks its lines down by, and the legend that names a line. */
interface By {
  labels: string;
  legend: string;
}
const ROUTE: By = { labels: 'method, route', legend: '{{method}} {{route}}' };
const QUERY: By = { labels: 'db, operation', legend: '{{db}} {{operation}}' };

/** A panel of a counter's rate, one line per label set. */
const rateBy = (title: string, unit: string, family: string, by: By) =>
  series(title, unit, [{ expr: rate(family, by.labels), legend: by.legend }]);
/** A panel of a histogram's p95, one line per label set. */
const p95By = (title: string, unit: string, family: string, by: By) =>
  series(title, unit, [{ expr: p95(family, `le, ${by.labels}`), legend: by.legend }]);

/** prodmon's dashboard, as Grafana's JSON model. */
export function buildDashboard() {
  const variable = (name: string, label: string, query: string) =>
    new QueryVariableBuilder(name)
      .label(label)
      .datasource(DATASOURCE)
      .query(query)
      .definition(query)
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      .allValue('.+')
      .current({ selected: true, text: 'All', value: '$__all' });

  return new DashboardBuilder('prodmon')
    .uid(DASHBOARD_UID)
    .description(
      "A Node.js service monitored by prodmon, from its /metrics: requests, routes, database queries, health checks, alerts, the notification outbox and the host. Built by prodmon's scripts/grafana-dashboard.ts.",
    )
    .tags(['prodmon', 'nodejs'])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .refresh('30s')
    .time({ from: 'now-3h', to: 'now' })
    .timezone('browser')
    .withVariable(new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'))
    .withVariable(variable('job', 'Job', 'label_values(prodmon_http_requests_total, job)'))
    .withVariable(
      variable('instance', 'Instance', 'label_values(prodmon_http_requests_total{job=~"$job"}, instance)'),
    )

    .withRow(new RowBuilder('Overview'))
    .withPanel(
      stat(
        'Request rate',
        'reqps',
        { expr: rate('prodmon_http_requests_total') },
        6,
        'Requests per second, every route.',
      ),
    )
    .withPanel(
      stat(
        'Error ratio',
        'percentunit',
        { expr: `${rate('prodmon_http_request_errors_total')} / ${rate('prodmon_http_requests_total')}` },
        6,
        'Failed requests (5xx and thrown errors) of all requests.',
      ),
    )
    .withPanel(
      stat(
        'p95 latency',
        's',
        { expr: p95('prodmon_http_request_duration_seconds', 'le') },
        6,
        'Every route together.',
      ),
    )
    .withPanel(
      stat(
        'Active alerts',
        'none',
        { expr: `max by (severity) (prodmon_alerts_active{${SEL}})`, legend: '{{severity}}' },
        6,
        "prodmon's open alerts (pending or firing) by severity; the same on every instance.",
      ),
    )
    .withPanel(
      series('Requests by status class', 'reqps', [
        { expr: rate('prodmon_http_requests_total', 'status_class'), legend: '{{status_class}}' },
      ]),
    )
    .withPanel(
      series('Error ratio', 'percentunit', [
        {
          expr: `${rate('prodmon_http_request_errors_total')} / ${rate('prodmon_http_requests_total')}`,
          legend: 'errors',
        },
      ]),
    )
    .withPanel(
      series('Latency', 's', [
        { expr: p95('prodmon_http_request_duration_seconds', 'le'), legend: 'p95' },
        {
          expr: `histogram_quantile(0.5, sum by (le) (rate(prodmon_http_request_duration_seconds_bucket{${SEL}}${RATE})))`,
          legend: 'p50',
        },
      ]),
    )

    .withRow(new RowBuilder('Routes'))
    .withPanel(rateBy('Requests by route', 'reqps', 'prodmon_http_requests_total', ROUTE))
    .withPanel(p95By('p95 latency by route', 's', 'prodmon_http_request_duration_seconds', ROUTE))
    .withPanel(rateBy('Errors by route', 'reqps', 'prodmon_http_request_errors_total', ROUTE))

    .withRow(new RowBuilder('Database queries'))
    .withPanel(rateBy('Queries', 'ops', 'prodmon_db_queries_total', QUERY))
    .withPanel(p95By('p95 query time', 's', 'prodmon_db_query_duration_seconds', QUERY))
    .withPanel(rateBy('Failed queries', 'ops', 'prodmon_db_query_errors_total', QUERY))

    .withRow(new RowBuilder('Checks'))
    .withPanel(
      series(
        'Check status',
        'none',
        [
          {
            expr: `max by (check, status) (prodmon_check_status{${SEL}}) > 0`,
            legend: '{{check}} {{status}}',
          },
        ],
        8,
        'The current status of each health check (one line per check and status it was in).',
      ),
    )
    .withPanel(
      series('Check response time', 's', [
        { expr: `max by (check) (prodmon_check_response_seconds{${SEL}})`, legend: '{{check}}' },
      ]),
    )
    .withPanel(
      series('p95 check duration', 's', [
        { expr: p95('prodmon_check_duration_seconds', 'le, check'), legend: '{{check}}' },
      ]),
    )

    .withRow(new RowBuilder('Alerts'))
    .withPanel(
      series(
        'Active alerts by severity',
        'none',
        [{ expr: `max by (severity) (prodmon_alerts_active{${SEL}})`, legend: '{{severity}}' }],
        24,
        "prodmon's open alerts (pending or firing), read from its store: the same on every instance, hence max.",
      ),
    )

    .withRow(new RowBuilder('Notification outbox'))
    .withPanel(
      series(
        'Outbox backlog',
        'none',
        [{ expr: `max(prodmon_outbox_backlog{${SEL}})`, legend: 'waiting' }],
        12,
        'Notifications waiting for delivery (or for a retry), read from the store: the same on every instance.',
      ),
    )
    .withPanel(
      series(
        "prodmon's pipeline",
        'none',
        [
          {
            expr: `sum by (instance) (prodmon_rollup_buffered_rows{${SEL}})`,
            legend: 'rollups buffered {{instance}}',
          },
          {
            expr: `sum by (instance) (prodmon_push_buffered_rows{${SEL}})`,
            legend: 'push buffered {{instance}}',
          },
          {
            expr: `sum by (instance) (increase(prodmon_rollup_flush_failures_total{${SEL}}${RATE}))`,
            legend: 'flush failures {{instance}}',
          },
        ],
        12,
        'Rollups waiting for the store, rows waiting to be pushed, failed flushes.',
      ),
    )

    .withRow(new RowBuilder('Host'))
    .withPanel(
      series('CPU', 'percentunit', [
        {
          expr: `max by (instance, scope) (prodmon_system_cpu_ratio{${SEL}})`,
          legend: '{{instance}} {{scope}}',
        },
      ]),
    )
    .withPanel(
      series('Memory', 'percentunit', [
        { expr: `max by (instance) (prodmon_system_memory_ratio{${SEL}})`, legend: '{{instance}}' },
      ]),
    )
    .withPanel(
      series('Disk used', 'percentunit', [
        {
          expr: `max by (instance, path) (prodmon_disk_used_ratio{${SEL}})`,
          legend: '{{instance}} {{path}}',
        },
      ]),
    )
    .withPanel(
      series('Process memory', 'bytes', [
        { expr: `max by (instance) (prodmon_process_rss_bytes{${SEL}})`, legend: 'rss {{instance}}' },
        { expr: `max by (instance) (prodmon_process_heap_used_bytes{${SEL}})`, legend: 'heap {{instance}}' },
      ]),
    )
    .withPanel(
      series('Event loop', 's', [
        {
          expr: `max by (instance) (prodmon_event_loop_lag_seconds{${SEL}})`,
          legend: 'p99 lag {{instance}}',
        },
      ]),
    )
    .withPanel(
      series('Event-loop utilisation', 'percentunit', [
        { expr: `max by (instance) (prodmon_event_loop_utilization_ratio{${SEL}})`, legend: '{{instance}}' },
      ]),
    )
    .build();
}

/**
 * JSON as the repository's formatter (Biome) writes it: objects one key a line, an array of plain
 * values on one line when it fits in 110 columns, two-space indentation.
 */
function formatJson(value: unknown, indent = ''): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every((v) => v === null || typeof v !== 'object')) {
      const line = `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
      if (indent.length + line.length + 12 <= 110) return line;
    }
    return `[\n${value.map((v) => `${inner}${formatJson(v, inner)}`).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function');
    if (entries.length === 0) return '{}';
    const lines = entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, inner)}`);
    return `{\n${lines.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

/** The dashboard as it is committed: formatted JSON and a final newline. */
export function dashboardJson(): string {
  return `${formatJson(buildDashboard())}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(DASHBOARD_FILE, dashboardJson());
  console.log(`wrote ${DASHBOARD_FILE}`);
}
