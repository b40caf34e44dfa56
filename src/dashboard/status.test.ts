import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Severity } from '../domain/alert.js';
import { banner, statusSince } from './status.js';

const r = (
  name: string,
  status: 'healthy' | 'degraded' | 'unhealthy',
  checkedAt: number,
  critical = true,
) => ({
  name,
  status,
  critical,
  checkedAt,
});

describe('status since', () => {
  test('is the time of the last change to the current status', () => {
    const history = [
      r('db', 'healthy', 1000),
      r('cache', 'healthy', 1000),
      r('db', 'unhealthy', 2000),
      r('db', 'healthy', 3000),
      r('cache', 'healthy', 4000),
    ];
    assert.equal(statusSince(history, 'healthy'), 3000);
  });

  test('a failing non-critical check only degrades, and results of one run are judged together', () => {
    const history = [r('db', 'healthy', 1000), r('mail', 'unhealthy', 1000, false), r('db', 'healthy', 2000)];
    assert.equal(statusSince(history, 'degraded'), 1000);
  });

  test('unknown when the history does not end in the current status, or is empty', () => {
    assert.equal(statusSince([r('db', 'healthy', 1000)], 'unhealthy'), null);
    assert.equal(statusSince([], 'healthy'), null);
  });
});

describe('banner', () => {
  const NOW = 1_000_000;
  const check = (name: string, status: 'healthy' | 'degraded' | 'unhealthy', critical = true) => ({
    name,
    kind: 'http',
    status,
    critical,
    checkedAt: NOW,
    responseTimeMs: 3,
    details: {},
    error: status === 'healthy' ? null : 'down',
  });
  const alert = (
    rule: string,
    severity: Severity,
    firingAt: number,
    over: { status?: 'firing' | 'pending'; silenced?: boolean } = {},
  ) => ({
    id: `al_${rule}`,
    rule,
    severity,
    message: `${rule} message`,
    status: over.status ?? ('firing' as const),
    firingAt: over.status === 'pending' ? null : firingAt,
    createdAt: firingAt - 10,
    silenced: over.silenced ?? false,
  });
  const healthy = [check('db', 'healthy'), check('cache', 'healthy')];

  test('a critical alert firing while every check is healthy: unhealthy, naming it, since it fired', () => {
    const b = banner(healthy, [alert('checkout_errors', 'critical', NOW - 5000)], NOW - 60_000);
    assert.equal(b.status, 'unhealthy');
    assert.equal(b.health, 'healthy');
    assert.equal(b.alert?.rule, 'checkout_errors');
    assert.equal(b.since, NOW - 5000);
    assert.deepEqual(b.checks, { total: 2, healthy: 2, degraded: 0, unhealthy: 0, noData: 0 });
  });

  test('any other severity makes it degraded; the most severe alert is named, the oldest of equals', () => {
    for (const sev of ['low', 'medium', 'high'] as const) {
      assert.equal(banner(healthy, [alert('r', sev, NOW)], NOW - 60_000).status, 'degraded', sev);
    }
    const b = banner(
      healthy,
      [
        alert('slow_search', 'medium', NOW - 100),
        alert('payments_down', 'critical', NOW - 50),
        alert('disk_full', 'critical', NOW - 70),
      ],
      null,
    );
    assert.equal(b.status, 'unhealthy');
    assert.equal(b.alert?.rule, 'disk_full');
    assert.equal(b.alerts.firing, 3);
  });

  test('the worse of checks and alerts: a failing critical check outranks a warning alert', () => {
    const b = banner(
      [check('db', 'unhealthy'), check('cache', 'healthy')],
      [alert('r', 'medium', NOW)],
      NOW - 1000,
    );
    assert.equal(b.status, 'unhealthy');
    assert.equal(b.since, NOW - 1000, "the checks' since");
  });

  test('silenced alerts still count (and say so); pending ones do not', () => {
    const silenced = banner(healthy, [alert('r', 'critical', NOW, { silenced: true })], null);
    assert.equal(silenced.status, 'unhealthy');
    assert.equal(silenced.alert?.silenced, true);
    const pending = banner(healthy, [alert('r', 'critical', NOW, { status: 'pending' })], NOW - 1);
    assert.equal(pending.status, 'healthy');
    assert.equal(pending.alert, null);
    assert.equal(pending.alerts.pending, 1);
  });

  test('missing data is never healthy: no check result, or a check without one, is "no-data"', () => {
    const none = banner([], [], null);
    assert.equal(none.status, 'no-data');
    assert.equal(none.since, null);
    const waiting = banner(healthy, [], NOW - 1, ['payments']);
    assert.equal(waiting.status, 'no-data');
    assert.equal(waiting.health, 'no-data');
    assert.deepEqual(waiting.checks, { total: 3, healthy: 2, degraded: 0, unhealthy: 0, noData: 1 });
    // What is known to fail still shows, and an alert still counts.
    assert.equal(banner([check('db', 'degraded')], [], NOW, ['payments']).status, 'degraded');
    assert.equal(banner([], [alert('r', 'critical', NOW)], null).status, 'unhealthy');
  });
});
