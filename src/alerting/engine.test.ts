/** Timelines of the alert engine on a fake clock and a real SQLite store: states, escalation, dedup. */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { FakeClock, history, testEngine, testStore } from '../../test/support/alerting.js';
import { METRIC } from '../metrics/names.js';
import type { Store } from '../store/index.js';

const S = 1000;
const M = 60 * S;
const T0 = Date.UTC(2026, 2, 2, 10, 0, 0);
const HTTP = METRIC.httpRequest;
const checkout = { route: '/checkout' };

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(alerting = {}, extra: Parameters<typeof testEngine>[0]['extra'] = {}) {
  const { store, cleanup } = await testStore();
  const clock = new FakeClock(T0);
  const t = testEngine({ store, clock, alerting, extra });
  await t.engine.start({ loop: false });
  cleanups.push(cleanup, () => t.engine.stop());
  /** Sets the p95 of /checkout, moves the clock to `at` and evaluates. */
  const at = async (ms: number, p95: number | null) => {
    clock.set(T0 + ms);
    t.metrics.set(HTTP, checkout, p95);
    await t.engine.evaluateNow();
  };
  return { store, clock, ...t, at };
}

async function only(store: Store) {
  const { items } = await store.alerts.list();
  assert.equal(items.length, 1, `one alert, got ${items.map((a) => `${a.rule}:${a.status}`).join(', ')}`);
  return items[0]!;
}

describe('alert engine timelines', () => {
  test('a slow route: pending, firing after 2 minutes, escalation in place, resolution — one alert', async () => {
    const { store, sink, at } = await setup();
    await at(0, 800);
    await at(1 * M, 800);
    await at(2 * M, 800);
    await at(3 * M, 2500);
    await at(4 * M, 2600);
    await at(5 * M, 120);
    await at(6 * M, 110);
    assert.deepEqual(await history(store, T0), [
      '+0s api_response_time pending medium',
      '+120s api_response_time firing medium',
      '+180s api_response_time escalated critical',
      '+300s api_response_time resolved critical',
    ]);
    assert.deepEqual(sink.lines(), [
      '+120s api_response_time firing medium',
      '+180s api_response_time escalated critical',
      '+300s api_response_time resolved critical',
    ]);
    const a = await only(store);
    assert.deepEqual(a.labels, checkout);
    assert.equal(a.fingerprint, 'api_response_time{route="/checkout"}');
    assert.equal(a.resolution?.kind, 'auto');
    assert.equal(a.firingAt, T0 + 2 * M);
    assert.equal(a.metadata.peak, 2600);
    assert.match(a.message, /p95 response time of \/checkout is 2600 ms \(threshold 2000 ms\)/);
    assert.equal(sink.transitions[1]!.previousSeverity, 'medium');
    // Each transition handed over is the stored event's id (the outbox key).
    const events = await store.alerts.events(a.id);
    assert.deepEqual(
      sink.transitions.map((t) => t.id),
      events.filter((e) => e.detail.notified).map((e) => e.id),
    );
  });

  test('fresh data is evaluated at once and coalesced: a critical breach fires without the loop', async () => {
    const { store, clock, engine, metrics, sink } = await setup();
    const before = metrics.queries;
    clock.set(T0 + 5 * S);
    metrics.set(HTTP, checkout, 2400);
    metrics.emit(HTTP);
    metrics.emit(HTTP, 'unrelated_metric');
    await engine.idle();
    // Two rules read the request metric (latency, error rate): one query each, once.
    assert.equal(metrics.queries - before, 2);
    assert.deepEqual(sink.lines(), ['+5s api_response_time firing critical']);
    const a = await only(store);
    assert.equal(a.status, 'firing');
    assert.equal(a.value, 2400);
    assert.equal(a.threshold, 2000);
  });

  test("the CPU time of each evaluation of announced data is told to the metrics source; the loop's is not", async () => {
    let cpu = 0;
    // Each reading of the CPU time is 3 ms after the one before: an evaluation takes 3 ms.
    const { clock, engine, metrics } = await setup({}, { cpuTime: () => (cpu += 3) });
    clock.set(T0 + 5 * S);
    metrics.set(HTTP, checkout, 2400);
    metrics.emit(HTTP);
    await engine.idle();
    assert.deepEqual(metrics.evaluations, [3]);
    await engine.evaluateNow();
    metrics.emit('unrelated_metric'); // no rule reads it: nothing evaluated
    await engine.idle();
    assert.deepEqual(metrics.evaluations, [3]);
    metrics.emit(HTTP);
    await engine.idle();
    assert.deepEqual(metrics.evaluations, [3, 3]);
  });

  test('cooldown: a re-fire within the cooldown is recorded, told when the cooldown ends; then a reminder', async () => {
    const { store, sink, at } = await setup();
    await at(0, 2500);
    await at(1 * M, 100);
    await at(3 * M, 2500);
    await at(10 * M, 2500);
    await at(15 * M, 2500);
    await at(16 * M, 2500);
    await at(15 * M + 4 * 60 * M - 1, 2500);
    await at(15 * M + 4 * 60 * M, 2500);
    assert.deepEqual(await history(store, T0), [
      '+0s api_response_time firing critical',
      '+60s api_response_time resolved critical',
      '+180s api_response_time firing critical (not notified)',
      '+900s api_response_time notified critical',
      '+15300s api_response_time reminder critical',
    ]);
    assert.deepEqual(sink.lines(), [
      '+0s api_response_time firing critical',
      '+60s api_response_time resolved critical',
      '+900s api_response_time firing critical',
      '+15300s api_response_time reminder critical',
    ]);
    assert.equal(sink.transitions[3]!.reminders, 1);
    const events = await store.alerts.events(sink.transitions[2]!.alert.id);
    assert.equal(events[0]!.detail.suppressed, 'cooldown');
  });

  test('hysteresis: a value hovering at the threshold fires once and clears only under `clear`', async () => {
    const { store, sink, at } = await setup({
      thresholds: { api_response_time: { warning: 500, critical: 2000, clear: 400, for: '0s' } },
    });
    const values = [520, 480, 530, 470, 510, 450, 420, 390];
    for (const [i, v] of values.entries()) await at(i * M, v);
    assert.deepEqual(await history(store, T0), [
      '+0s api_response_time firing medium',
      '+420s api_response_time resolved medium',
    ]);
    assert.deepEqual(sink.lines(), [
      '+0s api_response_time firing medium',
      '+420s api_response_time resolved medium',
    ]);
  });

  test('no data neither fires nor clears; auto_resolve_after of no data resolves as stale, and is told', async () => {
    const { store, sink, at } = await setup();
    await at(0, 2500);
    await at(1 * M, null);
    await at(29 * M, null);
    await at(30 * M, null);
    await at(31 * M, null);
    assert.deepEqual(await history(store, T0), [
      '+0s api_response_time firing critical',
      '+1800s api_response_time resolved critical',
    ]);
    assert.deepEqual(sink.lines(), [
      '+0s api_response_time firing critical',
      '+1800s api_response_time resolved critical',
    ]);
    const a = await only(store);
    assert.deepEqual([a.resolution?.kind, a.resolution?.reason], ['stale', 'no data']);
  });

  test('one alert per (rule, labels): two slow routes are two alerts, each with its own history', async () => {
    const { store, clock, engine, metrics, sink } = await setup();
    metrics.set(HTTP, checkout, 2500);
    metrics.set(HTTP, { route: '/search' }, 3000);
    await engine.evaluateNow();
    clock.set(T0 + M);
    metrics.set(HTTP, { route: '/search' }, 90);
    await engine.evaluateNow();
    const open = await store.alerts.listOpen();
    assert.deepEqual(
      open.map((a) => a.labels.route),
      ['/checkout'],
    );
    assert.deepEqual(sink.lines(), [
      '+0s api_response_time firing critical',
      '+0s api_response_time firing critical',
      '+60s api_response_time resolved critical',
    ]);
    assert.deepEqual(
      sink.transitions.map((t) => t.alert.labels.route),
      ['/checkout', '/search', '/search'],
    );
  });

  test('a sink that fails rolls the transition back; it is stored and handed over on the next evaluation', async () => {
    const { store, sink, at } = await setup();
    sink.fail = true;
    await at(0, 2500);
    assert.deepEqual((await store.alerts.list()).items, []);
    assert.deepEqual(
      (await store.audit.list()).filter((e) => e.actor === 'sink'),
      [],
    );
    sink.fail = false;
    await at(1 * M, 2500);
    assert.deepEqual(sink.lines(), ['+60s api_response_time firing critical']);
    assert.deepEqual(await history(store, T0), ['+60s api_response_time firing critical']);
    assert.equal((await store.audit.list()).filter((e) => e.actor === 'sink').length, 1);
  });

  test('a critical alert still firing after escalate_after is handed over once as an escalation', async () => {
    const { store, cleanup } = await testStore();
    const clock = new FakeClock(T0);
    const { engine, metrics, sink } = testEngine({ store, clock, extra: { escalateAfterMs: 30 * M } });
    cleanups.push(cleanup, () => engine.stop());
    await engine.start({ loop: false });
    for (const t of [0, 29 * M, 30 * M, 31 * M, 45 * M]) {
      clock.set(T0 + t);
      metrics.set(HTTP, checkout, 2500);
      await engine.evaluateNow();
    }
    assert.deepEqual(sink.lines(), [
      '+0s api_response_time firing critical',
      '+1800s api_response_time escalation critical',
    ]);
  });

  test('flapping between warning and critical: escalations are told, a step back within the cooldown is not', async () => {
    const { sink, at } = await setup({
      thresholds: { api_response_time: { warning: 500, critical: 2000, for: '0s' } },
    });
    const values = [800, 2500, 800, 2500, 800, 800];
    for (const [i, v] of values.entries()) await at(i * M, v);
    assert.deepEqual(sink.lines(), [
      '+0s api_response_time firing medium',
      '+60s api_response_time escalated critical',
    ]);
  });

  test('an open alert whose rule was removed from the config resolves, and the resolution is told', async () => {
    const { store, cleanup } = await testStore();
    const clock = new FakeClock(T0);
    const first = testEngine({
      store,
      clock,
      alerting: {
        rules: [
          { name: 'queue_depth', metric: 'queue_len', aggregation: 'max', critical: 100, type: 'system' },
        ],
      },
    });
    cleanups.push(cleanup);
    await first.engine.start({ loop: false });
    first.metrics.set('queue_len', {}, 500, 'max');
    await first.engine.evaluateNow();
    await first.engine.stop();
    clock.set(T0 + M);
    const second = testEngine({ store, clock, sink: first.sink });
    cleanups.push(() => second.engine.stop());
    await second.engine.start({ loop: false });
    await second.engine.evaluateNow();
    assert.deepEqual(first.sink.lines(), [
      '+0s queue_depth firing critical',
      '+60s queue_depth resolved critical',
    ]);
    const [a] = (await store.alerts.list()).items;
    assert.equal(a!.resolution?.reason, 'rule "queue_depth" is no longer configured');
  });

  test('the loop evaluates every evaluation_interval on the clock', async () => {
    const { store, cleanup } = await testStore();
    const clock = new FakeClock(T0);
    const { engine, metrics, sink } = testEngine({ store, clock, alerting: { evaluation_interval: '10s' } });
    cleanups.push(cleanup, () => engine.stop());
    await engine.start();
    await engine.idle();
    metrics.set(HTTP, checkout, 2500);
    await clock.advance(9 * S);
    await engine.idle();
    assert.deepEqual(sink.lines(), []);
    await clock.advance(1 * S);
    await engine.idle();
    assert.deepEqual(sink.lines(), ['+10s api_response_time firing critical']);
  });
});
