import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { Gauge, register as globalRegistry } from 'prom-client';
import { testEngine } from '../../test/support/metrics.js';
import { type PromFamily, parsePrometheusText } from '../../test/support/prom-parser.js';
import { FakeClock } from '../core/clock.js';
import type { HealthCheckResult } from '../domain/health.js';
import type { MetricsEngine } from './engine.js';
import { METRIC } from './names.js';
import { negotiateFormat } from './prometheus.js';

const HTTP = METRIC.httpRequest;

function sample(f: PromFamily | undefined, name: string, labels: Record<string, string>): number | undefined {
  return f?.samples.find(
    (s) =>
      s.name === name &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v) &&
      Object.keys(s.labels).length === Object.keys(labels).length,
  )?.value;
}

describe('Prometheus export', () => {
  let e: MetricsEngine;
  beforeEach(() => {
    e = testEngine({ clock: new FakeClock() });
  });
  afterEach(() => e.recorder.close());

  test('the exposition passes the strict parser, with histograms, counters and gauges from the recorder', async () => {
    const labels = { route: '/products/:id', method: 'GET', status_class: '2xx' };
    for (const ms of [3, 7, 40, 40, 900, 12_000]) e.record(HTTP, labels, ms);
    e.record(HTTP, { ...labels, status_class: '5xx' }, 20, true);
    // label values that need escaping in the text format
    e.record(HTTP, { route: '/odd/"quoted"\\path\nline', method: 'GET', status_class: '2xx' }, 1);
    e.record(METRIC.dbQuery, { db: 'shop', operation: 'select' }, 2);
    await e.sampler.sample();
    e.prometheus.enableDefaultMetrics();

    const fams = parsePrometheusText(await e.prometheus.metrics());
    const h = fams.get('prodmon_http_request_duration_seconds')!;
    assert.equal(h.type, 'histogram');
    const b = (le: string) => sample(h, 'prodmon_http_request_duration_seconds_bucket', { ...labels, le });
    assert.deepEqual([b('0.005'), b('0.01'), b('0.05'), b('1'), b('10'), b('+Inf')], [1, 2, 4, 5, 5, 6]);
    assert.equal(sample(h, 'prodmon_http_request_duration_seconds_count', labels), 6);
    assert.ok(Math.abs(sample(h, 'prodmon_http_request_duration_seconds_sum', labels)! - 12.99) < 1e-9);
    const odd = { route: '/odd/"quoted"\\path\nline', method: 'GET', status_class: '2xx' };
    assert.equal(sample(h, 'prodmon_http_request_duration_seconds_count', odd), 1);

    const total = fams.get('prodmon_http_requests_total')!;
    assert.equal(total.type, 'counter');
    assert.equal(sample(total, 'prodmon_http_requests_total', labels), 6);
    assert.equal(
      sample(fams.get('prodmon_http_request_errors_total'), 'prodmon_http_request_errors_total', {
        ...labels,
        status_class: '5xx',
      }),
      1,
    );
    assert.equal(
      sample(fams.get('prodmon_db_queries_total'), 'prodmon_db_queries_total', {
        db: 'shop',
        operation: 'select',
      }),
      1,
    );
    assert.equal(fams.get('prodmon_db_query_duration_seconds')!.type, 'histogram');

    assert.equal(
      sample(fams.get('prodmon_system_cpu_ratio'), 'prodmon_system_cpu_ratio', { scope: 'host' }),
      0.5,
      'percentages are exported as ratios',
    );
    assert.equal(
      sample(fams.get('prodmon_disk_used_ratio'), 'prodmon_disk_used_ratio', { path: '/data' }),
      0.7,
    );
    assert.equal(
      sample(fams.get('prodmon_event_loop_lag_seconds'), 'prodmon_event_loop_lag_seconds', {}),
      0.012,
    );
    // Node default metrics are there, on this registry only
    assert.ok(fams.has('process_cpu_user_seconds_total'));
    assert.ok(fams.has('nodejs_heap_size_used_bytes'));
    // gauges named like counters are left out (promtool rejects them); the per-type gauges stay
    assert.ok(!fams.has('nodejs_active_handles_total') && !fams.has('nodejs_active_resources_total'));
    assert.ok(fams.has('nodejs_active_handles'));
    assert.equal(
      globalRegistry.getMetricsAsArray().length,
      0,
      'the global prom-client registry is untouched',
    );
  });

  test('health providers feed check status, outbox backlog and active alerts; a failing one is left out', async () => {
    const checks: HealthCheckResult[] = [
      {
        name: 'db',
        kind: 'postgres',
        status: 'healthy',
        responseTimeMs: 12,
        details: {},
        error: null,
        critical: true,
        checkedAt: 0,
      },
      {
        name: 'cache',
        kind: 'redis',
        status: 'degraded',
        responseTimeMs: 250,
        details: {},
        error: 'slow',
        critical: false,
        checkedAt: 0,
      },
    ];
    let fams = parsePrometheusText(await e.prometheus.metrics());
    assert.equal(fams.get('prodmon_outbox_backlog')?.samples.length ?? 0, 0, 'no provider, no value');
    e.setProviders({
      checks: () => checks,
      outboxBacklog: async () => 4,
      activeAlerts: () => ({ critical: 1, low: 2 }),
    });
    fams = parsePrometheusText(await e.prometheus.metrics());
    const st = fams.get('prodmon_check_status')!;
    assert.equal(sample(st, 'prodmon_check_status', { check: 'cache', status: 'degraded' }), 1);
    assert.equal(sample(st, 'prodmon_check_status', { check: 'cache', status: 'healthy' }), 0);
    assert.equal(sample(st, 'prodmon_check_status', { check: 'db', status: 'healthy' }), 1);
    assert.equal(
      sample(fams.get('prodmon_check_response_seconds'), 'prodmon_check_response_seconds', {
        check: 'cache',
      }),
      0.25,
    );
    assert.equal(sample(fams.get('prodmon_outbox_backlog'), 'prodmon_outbox_backlog', {}), 4);
    const alerts = fams.get('prodmon_alerts_active')!;
    assert.deepEqual(
      alerts.samples.map((s) => [s.labels.severity, s.value]),
      [
        ['low', 2],
        ['medium', 0],
        ['high', 0],
        ['critical', 1],
      ],
    );
    e.setProviders({
      outboxBacklog: () => {
        throw new Error('store down');
      },
    });
    fams = parsePrometheusText(await e.prometheus.metrics());
    assert.equal(fams.get('prodmon_outbox_backlog')!.samples.length, 0);
    assert.equal(fams.get('prodmon_check_status')!.samples.length, 6);
  });

  test('prodmon reports its own pipeline: overflow, buffered rows and flush failures', async () => {
    const small = testEngine({ clock: new FakeClock(), metrics: { max_series: 10 } });
    for (let i = 0; i < 15; i++)
      small.record(HTTP, { route: `/r${i}`, method: 'GET', status_class: '2xx' }, 1);
    const fams = parsePrometheusText(await small.prometheus.metrics());
    assert.equal(sample(fams.get('prodmon_series_overflow_total'), 'prodmon_series_overflow_total', {}), 5);
    assert.equal(
      sample(fams.get('prodmon_rollup_flush_failures_total'), 'prodmon_rollup_flush_failures_total', {}),
      0,
    );
    assert.equal(fams.get('prodmon_push_failures_total')!.samples.length, 0, 'no push configured');
    small.recorder.close();
  });

  test('OpenMetrics: counters named without _total in HELP/TYPE, no blank lines, # EOF; the text format is unchanged after it', async () => {
    e.record(HTTP, { route: '/a', method: 'GET', status_class: '2xx' }, 12);
    e.prometheus.enableDefaultMetrics();
    const before = await e.prometheus.metrics();
    const open = await e.prometheus.metrics('openmetrics');
    assert.ok(open.endsWith('\n# EOF\n'));
    assert.doesNotMatch(open, /\n\n/);
    assert.match(open, /^# TYPE prodmon_http_requests counter$/m);
    assert.match(open, /^prodmon_http_requests_total\{route="\/a",method="GET",status_class="2xx"\} 1$/m);
    assert.match(open, /^# TYPE prodmon_rollup_dropped counter$/m);
    assert.match(open, /^# TYPE process_cpu_user_seconds counter$/m);
    assert.match(open, /^process_cpu_user_seconds_total [0-9.e-]+$/m);
    assert.doesNotMatch(open, / # \{/, 'no exemplars');
    // prom-client renames the counters it formats as OpenMetrics: the text format must not see that
    const after = await e.prometheus.metrics();
    assert.match(after, /^# TYPE process_cpu_user_seconds_total counter$/m);
    assert.deepEqual([...parsePrometheusText(after).keys()], [...parsePrometheusText(before).keys()]);
  });

  test('the Accept header picks the format: OpenMetrics only when preferred to text/plain', () => {
    const prometheusScraper =
      'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';
    assert.equal(negotiateFormat(prometheusScraper), 'openmetrics');
    assert.equal(negotiateFormat('application/openmetrics-text'), 'openmetrics');
    assert.equal(negotiateFormat(undefined), 'text');
    assert.equal(negotiateFormat('*/*'), 'text');
    assert.equal(negotiateFormat('text/plain;version=0.0.4'), 'text');
    assert.equal(negotiateFormat('text/plain, application/openmetrics-text;q=0.9'), 'text');
    assert.equal(negotiateFormat('application/openmetrics-text;q=0'), 'text');
  });

  test('NaN is spelled NaN (prom-client writes Nan), and only in sample values; a scrape of 1,000 series parses', async () => {
    new Gauge({
      name: 'test_not_a_number',
      help: 'A help text that ends in Nan',
      registers: [e.prometheus.registry],
    }).set(Number.NaN);
    for (let i = 0; i < 1000; i++)
      e.record(HTTP, { route: `/r${i}/:id`, method: 'GET', status_class: '2xx' }, i);
    const text = await e.prometheus.metrics();
    // A regular expression over the whole text would leave it referenced by the RegExp statics.
    assert.ok(RegExp.lastMatch.length < 1000 && RegExp.input.length < 1000, 'the text is not kept alive');
    assert.match(text, /^test_not_a_number NaN$/m);
    assert.match(text, /^# HELP test_not_a_number A help text that ends in Nan$/m);
    assert.doesNotMatch(text, /^[^#\n].* Nan$/m);
    const fams = parsePrometheusText(text);
    assert.ok(Number.isNaN(sample(fams.get('test_not_a_number'), 'test_not_a_number', {})));
    const h = fams.get('prodmon_http_request_duration_seconds')!;
    assert.equal(h.samples.filter((x) => x.name.endsWith('_count')).length, 1000);
    assert.equal(
      sample(h, 'prodmon_http_request_duration_seconds_sum', {
        route: '/r999/:id',
        method: 'GET',
        status_class: '2xx',
      }),
      0.999,
    );
  });
});
