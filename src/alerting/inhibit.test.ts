import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from '../../test/support/cli.js';
import { T0 } from '../../test/support/notify-fixtures.js';
import { checkResult, stormFixture } from '../../test/support/storm.js';
import { ConfigError, parseConfig } from '../config/load.js';
import { activeAlertsSection } from '../dashboard/views/alerts.js';
import { inhibitorOf } from './inhibit.js';

const LATENCY = 'http_request_duration_ms';
const INHIBIT = [
  {
    name: 'database down',
    source: { rules: ['health_check'], labels: { check: 'database' } },
    target: { rules: ['api_response_time', 'error_rate'] },
  },
];

interface Hook {
  type: string;
  data: {
    alert: { id: string; rule: string; labels: Record<string, string> };
    text: string;
    inhibits?: { id: string; rule: string; labels: Record<string, string> }[];
  };
}

describe('inhibition: one root cause pages once', () => {
  const f = stormFixture();
  const hooks = () => f.rx.requests.map((r) => r.json as Hook);

  test('a failing database check keeps its dependants quiet and lists them; they are told once it recovers', async () => {
    const s = await f.start({
      channels: [{ name: 'hook', kind: 'webhook', url: f.rx.url }],
      alerting: { inhibit_rules: INHIBIT },
    });
    // The database check fails and /checkout's latency breaches in the same evaluation.
    s.checks = [checkResult('database', T0)];
    s.metrics.set(LATENCY, { route: '/checkout' }, 2600);
    await s.evaluate();

    const [root, ...others] = hooks();
    assert.equal(others.length, 0, 'one page: the root cause');
    assert.deepEqual([root!.type, root!.data.alert.rule], ['alert.firing', 'health_check']);
    const latency = (await s.store.alerts.listOpen()).find((a) => a.rule === 'api_response_time')!;
    assert.equal(latency.status, 'firing', 'the dependant is evaluated and stored as usual');
    assert.deepEqual(
      root!.data.inhibits?.map((i) => [i.id, i.rule, i.labels]),
      [[latency.id, 'api_response_time', { route: '/checkout' }]],
    );
    assert.match(
      root!.data.text,
      /\nSuppressing: 1 alert not notified while this fires: api_response_time \(route=\/checkout\)\n/,
    );
    assert.deepEqual(inhibitorOf(latency.metadata), {
      id: root!.data.alert.id,
      rule: 'health_check',
      labels: { check: 'database' },
      by: 'database down',
    });
    const [firing] = await s.store.alerts.events(latency.id);
    assert.deepEqual(
      [firing!.kind, firing!.detail.notified, firing!.detail.suppressed],
      ['firing', false, 'inhibited'],
    );

    // A second dependant a minute later is inhibited too.
    await s.clock.advance(60_000);
    s.checks = [checkResult('database', s.clock.now())];
    s.metrics.set(LATENCY, { route: '/checkout' }, 7, 'ratio');
    s.metrics.set(LATENCY, {}, 9, 'rate');
    await s.evaluate();
    assert.equal(f.rx.requests.length, 1, 'still one page');
    const open = await s.store.alerts.listOpen();
    assert.deepEqual(open.map((a) => [a.rule, inhibitorOf(a.metadata)?.rule ?? null]).sort(), [
      ['api_response_time', 'health_check'],
      ['error_rate', 'health_check'],
      ['health_check', null],
    ]);

    // Visible as inhibited: the engine's view (what the API shows), the CLI, the dashboard.
    const viewed = s.engine.openAlerts().find((a) => a.rule === 'api_response_time')!;
    assert.equal(inhibitorOf(viewed.metadata)?.id, root!.data.alert.id);
    const html = activeAlertsSection(
      open.map((a) => ({ ...a, durationMs: 0, silenced: false })),
      { name: 'ops', role: 'read', csrf: '' },
      { dashboard: '/production/dashboard', api: '/production/api' },
      '/production/dashboard/alerts',
    ).toString();
    assert.equal(html.match(/badge silenced">inhibited</g)?.length, 2);
    const show = await runCli(['alerts', 'show', latency.id], { cwd: s.dir });
    assert.equal(show.code, 0, show.stderr);
    assert.match(
      show.stdout,
      new RegExp(
        `inhibited: by health_check check=database \\(${root!.data.alert.id}\\): not notified while it fires`,
      ),
    );
    assert.match(show.stdout, /not notified \(inhibited by health_check al_/);

    // The database recovers; /checkout is still slow, the error rate is back to normal.
    await s.clock.advance(4 * 60_000);
    s.checks = [checkResult('database', s.clock.now(), 'healthy')];
    s.metrics.set(LATENCY, {}, 0, 'rate');
    await s.evaluate();
    assert.deepEqual(
      hooks()
        .slice(1)
        .map((h) => [h.type, h.data.alert.rule])
        .sort(),
      [
        ['alert.firing', 'api_response_time'],
        ['alert.resolved', 'health_check'],
      ],
      'the dependant still firing is told now; the one that cleared while inhibited is never told',
    );
    const after = (await s.store.alerts.listOpen()).map((a) => [a.rule, inhibitorOf(a.metadata)]);
    assert.deepEqual(after, [['api_response_time', null]]);
    await s.advance(10 * 60_000, 60_000);
    assert.equal(f.rx.requests.length, 3, 'nothing more');
  });

  test('equal labels: a source inhibits only targets with the same values; never itself', async () => {
    const s = await f.start({
      channels: [{ name: 'hook', kind: 'webhook', url: f.rx.url }],
      alerting: {
        thresholds: { api_response_time: { enabled: false } },
        rules: [{ name: 'slow', metric: LATENCY, group_by: ['route'], critical: 1000, type: 'performance' }],
        inhibit_rules: [
          {
            source: { rules: ['slow'], labels: { route: '/a' } },
            target: { rules: ['slow'] },
            equal: ['route'],
          },
        ],
      },
    });
    s.metrics.set(LATENCY, { route: '/a' }, 2000);
    s.metrics.set(LATENCY, { route: '/b' }, 2000);
    await s.evaluate();
    assert.deepEqual(
      f.rx.requests.map((r) => (r.json as Hook).type),
      ['alert.group'],
      'both told: /a does not inhibit itself, and /b has another route',
    );
    const open = await s.store.alerts.listOpen();
    assert.deepEqual(
      open.map((a) => inhibitorOf(a.metadata)),
      [null, null],
    );
  });

  test('config: an inhibit rule needs a source and a target matcher', () => {
    const parse = (rule: unknown) =>
      parseConfig({ alerting: { inhibit_rules: [rule] } } as never, { env: {}, dataDir: '/tmp/x' });
    assert.throws(
      () => parse({ source: {}, target: { rules: ['a'] } }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /alerting\.inhibit_rules\[0\]\.source: needs a matcher/);
        return true;
      },
    );
    assert.throws(
      () => parse({ source: { rules: ['a'] } }),
      /alerting\.inhibit_rules\[0\]\.target: needs a matcher/,
    );
    assert.throws(
      () => parse({ source: { rule: 'a' }, target: { rules: ['b'] } }),
      /unknown key "rule" \(did you mean "rules"\?\)/,
    );
    assert.throws(
      () => parse({ source: { rules: ['helth_check'] }, target: { rules: ['error_rate'] } }),
      /alerting\.inhibit_rules\[0\]\.source\.rules\[0\]: unknown rule "helth_check" \(did you mean "health_check"\?\)/,
    );
    assert.equal(
      parse({ source: { rules: ['health_check'] }, target: { severities: ['medium'] } }).alerting
        .inhibit_rules.length,
      1,
    );
  });
});
