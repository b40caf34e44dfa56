/** Alerts from health checks, security events, and the real metrics engine's recorder. */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import {
  alertingConfig,
  FakeClock,
  history,
  RecordingSink,
  testEngine,
  testStore,
} from '../../test/support/alerting.js';
import { testEngine as metricsEngine } from '../../test/support/metrics.js';
import type { HealthCheckResult } from '../domain/health.js';
import { METRIC } from '../metrics/names.js';
import { AlertEngine } from './engine.js';

const S = 1000;
const M = 60 * S;
const T0 = Date.UTC(2026, 2, 2, 10, 0, 0);

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function result(
  name: string,
  status: HealthCheckResult['status'],
  critical: boolean,
  at: number,
  error: string | null = null,
  kind = 'tcp',
): HealthCheckResult {
  return { name, kind, status, responseTimeMs: 12, details: {}, error, critical, checkedAt: at };
}

describe('health checks as alerts', () => {
  test('unhealthy critical -> critical, unhealthy non-critical -> high, degraded -> medium after 2 minutes', async () => {
    const { store, cleanup } = await testStore();
    const clock = new FakeClock(T0);
    let results: HealthCheckResult[] = [];
    let push: ((r: HealthCheckResult[]) => void) | undefined;
    const checks = {
      latest: () => results,
      onResults: (fn: (r: HealthCheckResult[]) => void) => {
        push = fn;
        return () => {
          push = undefined;
        };
      },
    };
    const { engine, sink } = testEngine({ store, clock, extra: { checks } });
    cleanups.push(cleanup, () => engine.stop());
    await engine.start({ loop: false });

    const at = async (ms: number, r: HealthCheckResult[]) => {
      await clock.advance(T0 + ms - clock.now());
      results = r;
      push!(r); // fresh results are evaluated at once, without the loop
      await engine.idle();
    };
    await at(0, [
      result('db', 'unhealthy', true, T0, 'connection refused'),
      result('cache', 'unhealthy', false, T0, 'timeout'),
      result('payments', 'degraded', false, T0),
      // The built-in memory check: the memory_usage threshold rule alerts on that, not this rule too.
      result('memory', 'unhealthy', false, T0, 'memory 97 % used', 'memory'),
    ]);
    await at(1 * M, [
      result('db', 'unhealthy', true, T0 + M),
      result('cache', 'healthy', false, T0 + M),
      result('payments', 'degraded', false, T0 + M),
    ]);
    await at(2 * M, [
      result('db', 'healthy', true, T0 + 2 * M),
      result('cache', 'healthy', false, T0 + 2 * M),
      result('payments', 'degraded', false, T0 + 2 * M),
    ]);
    assert.deepEqual(sink.lines(), [
      '+0s health_check firing critical',
      '+0s health_check firing high',
      '+60s health_check resolved high',
      '+120s health_check resolved critical',
      '+120s health_check firing medium',
    ]);
    assert.deepEqual(
      sink.transitions.map((t) => `${t.alert.labels.check}:${t.alert.type}`),
      ['db:system', 'cache:system', 'cache:system', 'db:system', 'payments:system'],
    );
    assert.equal(sink.transitions[0]!.alert.message, 'health check db is unhealthy: connection refused');
    assert.deepEqual(await history(store, T0, { kinds: ['pending'] }), ['+0s health_check pending medium']);
  });
});

describe('security alerts', () => {
  test('more than N failed logins per window from one source fire a security alert at once; logged to the security stream', async () => {
    const { store, cleanup } = await testStore();
    const clock = new FakeClock(T0);
    const logged: object[] = [];
    const logger = { security: { warn: (obj: object) => logged.push(obj) } };
    const { engine, sink } = testEngine({ store, clock, extra: { logger } });
    cleanups.push(cleanup, () => engine.stop());
    await engine.start({ loop: false });
    clock.set(T0 + 6 * M);
    const fail = (ip: string, n: number) => {
      for (let i = 0; i < n; i++)
        engine.security({ kind: 'failed_login', ip, user: 'admin', detail: { path: '/login' } });
    };
    fail('10.0.0.9', 10);
    fail('10.0.0.7', 3);
    await engine.idle();
    assert.deepEqual(sink.lines(), []);
    // The 11th, within the coalescing window of that evaluation, is evaluated at the window's end.
    fail('10.0.0.9', 1);
    await engine.idle();
    assert.deepEqual(sink.lines(), []);
    await clock.advance(alertingConfig().coalesce_window); // 25 ms
    await engine.idle();
    await clock.advance(T0 + 7 * M - clock.now());
    fail('10.0.0.9', 40); // after a quiet window: at once
    await engine.idle();
    // Counts are kept in slices of window/60 (5 s): the last events leave the window 5 minutes and one slice later.
    clock.set(T0 + 12 * M + 5 * S);
    await engine.evaluateNow();
    assert.deepEqual(sink.lines(), [
      '+360.025s failed_logins firing high',
      '+420s failed_logins escalated critical',
      '+725s failed_logins resolved critical',
    ]);
    const fired = sink.transitions[0]!.alert;
    assert.deepEqual([fired.type, fired.labels], ['security', { source: '10.0.0.9' }]);
    assert.equal(fired.message, '11 failed logins from 10.0.0.9 within 5m');
    assert.equal(logged.length, 54);
    assert.deepEqual(logged[0], {
      event: 'security',
      kind: 'failed_login',
      source: undefined,
      ip: '10.0.0.9',
      user: 'admin',
      detail: { path: '/login' },
    });
  });

  test('an open security alert is not resolved right after a restart (the window was not watched whole)', async () => {
    const { store, cleanup } = await testStore();
    const clock = new FakeClock(T0);
    const first = testEngine({ store, clock });
    cleanups.push(cleanup);
    await first.engine.start({ loop: false });
    for (let i = 0; i < 60; i++) first.engine.security({ kind: 'failed_login', ip: '10.0.0.9' });
    await first.engine.idle();
    await first.engine.stop();
    clock.set(T0 + 30 * S);
    const second = testEngine({ store, clock, sink: new RecordingSink(T0) });
    cleanups.push(() => second.engine.stop());
    await second.engine.start({ loop: false });
    await second.engine.evaluateNow();
    assert.deepEqual(second.sink.lines(), []);
    clock.set(T0 + 5 * M + 30 * S);
    await second.engine.evaluateNow();
    assert.deepEqual(second.sink.lines(), ['+330s failed_logins resolved critical']);
  });
});

describe('with the real metrics engine', () => {
  test('slow requests recorded in memory fire the latency alert at once, before any flush', async () => {
    const { store, cleanup } = await testStore();
    const clock = new FakeClock(T0);
    const metrics = metricsEngine({ store, clock });
    const sink = new RecordingSink(T0);
    const engine = new AlertEngine({ store, clock, config: alertingConfig(), metrics, sink });
    cleanups.push(cleanup, async () => {
      await engine.stop();
      metrics.recorder.close();
    });
    await engine.start({ loop: false });
    clock.set(T0 + 10 * S);
    for (let i = 0; i < 50; i++)
      metrics.record(METRIC.httpRequest, { route: '/slow', method: 'GET', status_class: '2xx' }, 2600);
    await clock.advance(0); // the end of the turn: the recorder announces the samples
    await engine.idle();
    assert.deepEqual(sink.lines(), ['+10s api_response_time firing critical']);
    assert.equal(sink.transitions[0]!.alert.labels.route, '/slow');
    assert.ok(Math.abs(sink.transitions[0]!.alert.value! - 2600) < 2600 * 0.02);
  });
});
