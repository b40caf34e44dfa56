/** Rules from the config: the six built-ins, overrides, health checks, security, templates. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { alertingConfig } from '../../test/support/alerting.js';
import { METRIC } from '../metrics/names.js';
import { formatValue, labelsText, renderMessage } from './message.js';
import { buildRules, fingerprint } from './rules.js';

const names = (cfg = alertingConfig()) => buildRules(cfg).map((r) => r.name);

describe('alert rules', () => {
  test('the six thresholds of the specification are rules by default, plus health checks and security', () => {
    assert.deepEqual(names(), [
      'api_response_time',
      'database_query_time',
      'memory_usage',
      'cpu_usage',
      'error_rate',
      'disk_usage',
      'health_check',
      'failed_logins',
      'rate_limited',
    ]);
    const rules = buildRules(alertingConfig());
    const api = rules.find((r) => r.name === 'api_response_time')!;
    assert.deepEqual(api.source, {
      kind: 'metric',
      metric: METRIC.httpRequest,
      aggregation: 'p95',
      labels: {},
      groupBy: ['route'],
    });
    assert.deepEqual(
      [api.condition.warning, api.condition.critical, api.condition.forMs],
      [500, 2000, { warning: 120_000, critical: 0 }],
    );
    assert.deepEqual(
      [api.windowMs, api.staleAfterMs, api.type, api.severity],
      [300_000, 1_800_000, 'performance', { warning: 'medium', critical: 'critical' }],
    );
    const cpu = rules.find((r) => r.name === 'cpu_usage')!;
    assert.deepEqual(cpu.source, {
      kind: 'metric',
      metric: METRIC.cpu,
      aggregation: 'avg',
      labels: { scope: 'host' },
      groupBy: [],
    });
    const hc = rules.find((r) => r.name === 'health_check')!;
    // The host checks' facts are alerted on by the threshold rules: not twice.
    assert.deepEqual(hc.source, {
      kind: 'check',
      check: '*',
      field: 'status',
      exceptKinds: ['memory', 'cpu', 'disk'],
    });
    const errors = rules.find((r) => r.name === 'error_rate')!;
    assert.deepEqual(
      [errors.source.kind === 'metric' && errors.source.aggregation, errors.type],
      ['rate', 'error'],
    );
  });

  test('users change, disable, replace and add rules', () => {
    const cfg = alertingConfig({
      thresholds: {
        cpu_usage: { enabled: false },
        api_response_time: { warning: 300, critical: 1000, for: '30s', severity: { warning: 'high' } },
      },
      health_checks: { enabled: false },
      rules: [
        {
          name: 'disk_usage',
          metric: METRIC.disk,
          aggregation: 'max',
          group_by: ['path'],
          critical: 90,
          type: 'system',
        },
        {
          name: 'checkout_errors',
          metric: METRIC.httpRequest,
          labels: { route: '/checkout' },
          aggregation: 'ratio',
          warning: 0.01,
          critical: 0.05,
          type: 'error',
          message: '{{labels.route}} fails {{value}}',
        },
        { name: 'slow_db_check', metric: 'check:db:latency', warning: 200 },
        { name: 'payments_down', metric: 'check:payments:status' },
      ],
    });
    const rules = buildRules(cfg);
    assert.deepEqual(
      rules.map((r) => r.name),
      [
        'api_response_time',
        'database_query_time',
        'memory_usage',
        'error_rate',
        'failed_logins',
        'rate_limited',
        'disk_usage',
        'checkout_errors',
        'slow_db_check',
        'payments_down',
      ],
    );
    const api = rules[0]!;
    assert.deepEqual(
      [api.condition.warning, api.condition.critical, api.condition.forMs, api.severity.warning],
      [300, 1000, { warning: 30_000, critical: 30_000 }, 'high'],
    );
    const disk = rules.find((r) => r.name === 'disk_usage')!;
    assert.deepEqual([disk.builtin, disk.condition.warning, disk.condition.critical], [false, undefined, 90]);
    const db = rules.find((r) => r.name === 'slow_db_check')!;
    assert.deepEqual(db.source, { kind: 'check', check: 'db', field: 'latency' });
    const pay = rules.find((r) => r.name === 'payments_down')!;
    assert.deepEqual(
      [pay.source.kind, pay.condition.warning, pay.condition.critical, pay.condition.inclusive, pay.type],
      ['check', 1, 2, true, 'system'],
    );
  });

  test('templates are logic-less: values, thresholds and labels are substituted, nothing is run', () => {
    const vars = { value: 2345.678, threshold: 2000, labels: { route: '/checkout' }, window: 300_000 };
    assert.equal(
      renderMessage('{{labels.route}}: {{value}} > {{threshold}} over {{window}}', vars),
      '/checkout: 2346 > 2000 over 5m',
    );
    assert.equal(
      renderMessage(
        '{{ value }} {{labels.missing}}|{{constructor}}|{{process.exit}}|{{labels.constructor}}',
        {
          ...vars,
          value: 0.4567,
        },
      ),
      '0.46 |||',
    );
    assert.equal(
      renderMessage('{{#each x}}{{/each}} <%= value %>', vars),
      '{{#each x}}{{/each}} <%= value %>',
    );
  });

  test('values and labels as people read them', () => {
    assert.deepEqual(
      [
        formatValue(2345.678),
        formatValue(0.4567),
        formatValue(7),
        formatValue(null),
        formatValue(Number.NaN, ''),
      ],
      ['2346', '0.46', '7', 'n/a', ''],
    );
    assert.equal(labelsText({ route: '/checkout', method: 'GET' }), 'route=/checkout, method=GET');
    assert.equal(labelsText({}), '');
  });

  test('a fingerprint is stable whatever the order of the labels', () => {
    assert.equal(fingerprint('r', { b: '2', a: '1' }), fingerprint('r', { a: '1', b: '2' }));
    assert.notEqual(fingerprint('r', { a: '1' }), fingerprint('s', { a: '1' }));
  });

  test('invalid rules and maintenance windows are config errors naming the field', () => {
    assert.throws(
      () => alertingConfig({ rules: [{ name: 'x', metric: 'm', warning: 10, critical: 5 }] }),
      /alerting\.rules\[0\]\.critical: must be at least the warning threshold/,
    );
    assert.throws(
      () => alertingConfig({ rules: [{ name: 'x', metric: 'm', warning: 10, clear: 20 }] }),
      /alerting\.rules\[0\]\.clear: must be at most the warning threshold/,
    );
    assert.throws(
      () => alertingConfig({ maintenance: [{ name: 'w', schedule: '0 2 * * 0' }] }),
      /alerting\.maintenance\[0\]\.duration: a recurring window \(schedule\) needs a duration/,
    );
    assert.throws(
      () => alertingConfig({ evaluation_interval: '500ms' }),
      /alerting\.evaluation_interval: must be at least 1s/,
    );
  });
});
