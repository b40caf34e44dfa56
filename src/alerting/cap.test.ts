import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { alertingConfig, FakeClock, RecordingSink, testStore } from '../../test/support/alerting.js';
import { StormMetrics } from '../../test/support/storm.js';
import { ConfigError, parseConfig } from '../config/load.js';
import type { StoredAlert } from '../domain/alert.js';
import type { Store } from '../store/index.js';
import { overflowFingerprint } from './cap.js';
import { AlertEngine } from './engine.js';

const T0 = Date.UTC(2026, 0, 1, 12);
const METRIC = 'http_request_duration_ms';
const route = (i: number) => `/r${String(i).padStart(4, '0')}`;

describe('the cap on open alerts per rule', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  async function start(cap: number) {
    const t = await testStore();
    cleanup = t.cleanup;
    const clock = new FakeClock(T0);
    const metrics = new StormMetrics();
    const sink = new RecordingSink(T0);
    const engine = new AlertEngine({
      store: t.store,
      clock,
      config: alertingConfig({ max_alerts_per_rule: cap }),
      metrics,
      sink,
    });
    await engine.start({ loop: false });
    const prev = cleanup;
    cleanup = async () => {
      await engine.stop();
      await prev();
    };
    return { store: t.store, clock, metrics, sink, engine };
  }

  /** The open alerts of the rule: individual routes, and the summary. */
  async function open(store: Store): Promise<{ routes: string[]; summary: StoredAlert | undefined }> {
    const all = (await store.alerts.listOpen()).filter((a) => a.rule === 'api_response_time');
    return {
      routes: all
        .filter((a) => a.labels.route)
        .map((a) => a.labels.route!)
        .sort(),
      summary: all.find((a) => a.labels.overflow === 'true'),
    };
  }

  test('2,000 breaching label sets, cap 100: the 100 worst alert, one summary counts the 1,900 others exactly', async () => {
    const { store, clock, metrics, sink, engine } = await start(100);
    for (let i = 0; i < 2000; i++) metrics.set(METRIC, { route: route(i) }, 2100 + i);
    await engine.evaluateNow();

    let o = await open(store);
    assert.deepEqual(
      o.routes,
      Array.from({ length: 100 }, (_, i) => route(1900 + i)),
      'the worst (highest p95) get alerts',
    );
    const summary = o.summary!;
    assert.equal(summary.fingerprint, overflowFingerprint('api_response_time'));
    assert.deepEqual(
      [summary.status, summary.severity, summary.value, summary.labels],
      ['firing', 'critical', 1900, { overflow: 'true' }],
    );
    assert.equal(
      summary.message,
      '1,900 more label sets of api_response_time breaching beyond the cap of 100 alerts per rule (worst: route=/r1899 at 3999)',
    );
    const meta = summary.metadata.overflow as { count: number; cap: number; worst: { labels: object }[] };
    assert.deepEqual(
      [meta.count, meta.cap, meta.worst.length, meta.worst[0]!.labels],
      [1900, 100, 10, { route: '/r1899' }],
    );
    assert.equal(sink.transitions.length, 101, '100 alerts and the summary handed over');

    // The count follows the data, exactly, without another notification.
    await clock.advance(60_000);
    for (let i = 0; i < 1000; i++) metrics.set(METRIC, { route: route(i) }, 100);
    await engine.evaluateNow();
    o = await open(store);
    assert.equal(o.summary!.value, 900);
    assert.equal((await store.alerts.get(summary.id))!.value, 900, 'the count is stored');
    assert.equal(o.routes.length, 100);
    assert.equal(sink.transitions.length, 101);

    // A slot frees up: the worst waiting label set gets its own alert, the summary counts one less.
    await clock.advance(60_000);
    metrics.set(METRIC, { route: route(1999) }, 100);
    await engine.evaluateNow();
    o = await open(store);
    assert.ok(!o.routes.includes(route(1999)));
    assert.ok(o.routes.includes(route(1899)), 'the worst of the rest got an alert');
    assert.equal(o.routes.length, 100);
    assert.equal(o.summary!.value, 899);

    // Every label set beyond the cap clears: the summary resolves, told as the firing was.
    await clock.advance(60_000);
    for (let i = 1000; i < 1899; i++) metrics.set(METRIC, { route: route(i) }, 100);
    await engine.evaluateNow();
    o = await open(store);
    assert.equal(o.summary, undefined);
    const resolved = (await store.alerts.get(summary.id))!;
    assert.deepEqual(
      [resolved.status, resolved.resolution?.reason, resolved.value],
      ['resolved', 'every breaching label set has an alert of its own', 899],
    );
    assert.deepEqual(
      sink.transitions.filter((t) => t.alert.id === summary.id).map((t) => t.kind),
      ['firing', 'resolved'],
    );
  });

  test('no data keeps the summary as it is until auto_resolve_after makes it stale', async () => {
    const { store, clock, metrics, engine } = await start(2);
    for (let i = 0; i < 5; i++) metrics.set(METRIC, { route: route(i) }, 2100 + i);
    await engine.evaluateNow();
    assert.equal((await open(store)).summary?.value, 3);
    for (let i = 0; i < 5; i++) metrics.set(METRIC, { route: route(i) }, null);
    await clock.advance(10 * 60_000);
    await engine.evaluateNow();
    assert.equal((await open(store)).summary?.value, 3, 'no data is not healthy');
    await clock.advance(30 * 60_000);
    await engine.evaluateNow();
    const o = await open(store);
    assert.deepEqual([o.summary, o.routes], [undefined, []]);
  });

  test('config: the cap is a whole number from 1, 100 by default', () => {
    const parse = (v: unknown) =>
      parseConfig({ alerting: { max_alerts_per_rule: v } } as never, { env: {}, dataDir: '/tmp/x' });
    assert.equal(parseConfig({}, { env: {}, dataDir: '/tmp/x' }).alerting.max_alerts_per_rule, 100);
    assert.throws(() => parse(0), ConfigError);
    assert.throws(() => parse(2.5), ConfigError);
    assert.equal(parse(5000).alerting.max_alerts_per_rule, 5000);
  });
});
