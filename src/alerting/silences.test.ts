/** Silences and maintenance windows: recorded but not told, told when they end, resolutions kept. */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { FakeClock, history, testEngine, testStore } from '../../test/support/alerting.js';
import type { ConfigInput } from '../config/schema.js';
import { METRIC } from '../metrics/names.js';
import { buildSilence, createSilence, expireSilence } from './silences.js';

const S = 1000;
const M = 60 * S;
const T0 = Date.UTC(2026, 2, 2, 10, 0, 0);
const HTTP = METRIC.httpRequest;
const checkout = { route: '/checkout' };
const search = { route: '/search' };

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(alerting: ConfigInput['alerting'] = {}, loop = false) {
  const { store, cleanup } = await testStore();
  const clock = new FakeClock(T0);
  const t = testEngine({ store, clock, alerting });
  cleanups.push(cleanup, () => t.engine.stop());
  await t.engine.start({ loop });
  await t.engine.idle();
  const at = async (ms: number, values: Record<string, number | null>) => {
    clock.set(T0 + ms);
    for (const [route, v] of Object.entries(values)) t.metrics.set(HTTP, { route }, v);
    await t.engine.evaluateNow();
  };
  return { store, clock, ...t, at };
}

describe('silences', () => {
  test('a silenced alert is recorded but not told, and is told when the silence ends while still firing', async () => {
    const { store, clock, engine, metrics, sink } = await setup({}, true);
    await createSilence(
      store,
      { rule: 'api_response_time', durationMs: 10 * M + 30 * S, createdBy: 'ops', comment: 'deploy' },
      T0,
    );
    metrics.set(HTTP, checkout, 2500);
    await clock.advance(60 * S);
    await engine.idle();
    // The loop wakes at the silence's end (10m30s), not at its next 60 s tick.
    for (let i = 0; i < 10; i++) {
      await clock.advance(60 * S);
      await engine.idle();
    }
    assert.deepEqual(await history(store, T0), [
      '+60s api_response_time firing critical (not notified)',
      '+630s api_response_time notified critical',
    ]);
    assert.deepEqual(sink.lines(), ['+630s api_response_time firing critical']);
    const [a] = await store.alerts.listOpen();
    const firing = (await store.alerts.events(a!.id))[0]!;
    assert.equal(firing.detail.suppressed, 'silenced');
    assert.equal((firing.detail.muted_by as string[]).length, 1);
  });

  test('a silence does not hide the resolution of an alert told before it', async () => {
    const { store, sink, at } = await setup();
    await at(0, { '/checkout': 2500 });
    await createSilence(
      store,
      { rule: 'api_response_time', durationMs: 60 * M, createdBy: 'ops', comment: 'fixing' },
      T0 + M,
    );
    await at(2 * M, { '/checkout': 2600 });
    await at(3 * M, { '/checkout': 100 });
    assert.deepEqual(sink.lines(), [
      '+0s api_response_time firing critical',
      '+180s api_response_time resolved critical',
    ]);
  });

  test('an alert that fires and resolves inside a silence is recorded and never told', async () => {
    const { store, sink, at } = await setup();
    await createSilence(
      store,
      { labels: checkout, durationMs: 30 * M, createdBy: 'ops', comment: 'load test' },
      T0,
    );
    await at(0, { '/checkout': 2500, '/search': 2500 });
    await at(5 * M, { '/checkout': 100, '/search': 2500 });
    assert.deepEqual(await history(store, T0), [
      '+0s api_response_time firing critical',
      '+0s api_response_time firing critical (not notified)',
      '+300s api_response_time resolved critical (not notified)',
    ]);
    assert.deepEqual(sink.lines(), ['+0s api_response_time firing critical']);
    assert.deepEqual(sink.transitions[0]!.alert.labels, search);
  });

  test('expiring a silence by hand lets a still-firing alert be told at the next evaluation', async () => {
    const { store, sink, at } = await setup();
    const s = await createSilence(
      store,
      { all: true, durationMs: 60 * M, createdBy: 'ops', comment: 'everything' },
      T0,
    );
    await at(0, { '/checkout': 2500 });
    await expireSilence(store, s.id, 'ana', T0 + 2 * M);
    await at(3 * M, { '/checkout': 2500 });
    assert.deepEqual(sink.lines(), ['+180s api_response_time firing critical']);
    const audit = await store.audit.list({ target: s.id });
    assert.deepEqual(audit.map((e) => [e.action, e.actor]).sort(), [
      ['silence.create', 'ops'],
      ['silence.expire', 'ana'],
    ]);
    await assert.rejects(expireSilence(store, s.id, 'ana', T0 + 4 * M), { code: 'PRODMON_E_CONFLICT' });
    await assert.rejects(expireSilence(store, 'si_none', 'ana', T0 + 4 * M), { code: 'PRODMON_E_NOT_FOUND' });
  });

  test('a silence needs a matcher (or all), a comment and an end in the future', () => {
    const base = { createdBy: 'ops', comment: 'x', durationMs: M };
    assert.throws(() => buildSilence({ ...base }, T0), /needs a matcher/);
    assert.throws(() => buildSilence({ ...base, rule: 'cpu_usage', comment: ' ' }, T0), /needs a comment/);
    assert.throws(
      () => buildSilence({ createdBy: 'ops', comment: 'x', rule: 'cpu_usage' }, T0),
      /needs an end/,
    );
    assert.throws(() => buildSilence({ ...base, rule: 'r', type: 'nope' }, T0), /"type" must be one of/);
    assert.throws(
      () => buildSilence({ ...base, rule: 'r', endsAt: T0 - 1, durationMs: undefined }, T0),
      /end after it starts|future/,
    );
    const s = buildSilence({ ...base, rule: 'cpu_usage', labels: { path: '/' } }, T0);
    assert.deepEqual(s.matchers, { rule: 'cpu_usage', labels: { path: '/' } });
    assert.equal(s.endsAt, T0 + M);
  });
});

describe('maintenance windows', () => {
  test('a recurring window (cron in a time zone) mutes matching alerts only while it is open', async () => {
    // Every day at 11:00 Berlin time (10:00 UTC in March), for 30 minutes, for /checkout only.
    const { sink, at } = await setup({
      maintenance: [
        {
          name: 'nightly-deploy',
          schedule: '0 11 * * *',
          timezone: 'Europe/Berlin',
          duration: '30m',
          labels: checkout,
          comment: 'deploys',
        },
      ],
    });
    await at(0, { '/checkout': 2500, '/search': 2500 });
    await at(29 * M, { '/checkout': 2500, '/search': 2500 });
    await at(30 * M, { '/checkout': 2500, '/search': 2500 });
    assert.deepEqual(sink.lines(), [
      '+0s api_response_time firing critical',
      '+1800s api_response_time firing critical',
    ]);
    assert.deepEqual(
      sink.transitions.map((t) => t.alert.labels.route),
      ['/search', '/checkout'],
    );
  });

  test('a one-off window by type mutes system alerts, not performance ones', async () => {
    const { engine } = await setup({
      maintenance: [
        { name: 'os-upgrade', start: '2026-03-02T09:00:00Z', end: '2026-03-02T11:00:00Z', types: ['system'] },
      ],
    });
    assert.deepEqual(await engine.mutedBy({ rule: 'cpu_usage', labels: {}, type: 'system' }, T0), [
      'maintenance:os-upgrade',
    ]);
    assert.deepEqual(
      await engine.mutedBy({ rule: 'api_response_time', labels: {}, type: 'performance' }, T0),
      [],
    );
    assert.deepEqual(
      await engine.mutedBy(
        { rule: 'cpu_usage', labels: {}, type: 'system' },
        Date.parse('2026-03-02T11:00:00Z'),
      ),
      [],
    );
    const [w] = engine.calendar.status(T0);
    assert.equal(w?.active, true);
  });
});
