import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { testEngine } from '../../test/support/metrics.js';
import { STORE_FIXTURES } from '../../test/support/stores.js';
import { FakeClock } from '../core/clock.js';
import type { Store } from '../store/index.js';
import type { MetricsEngine } from './engine.js';
import { METRIC } from './names.js';
import { HOUR_MS, MINUTE_MS } from './rollup.js';
import { decodeSketch, sketchQuantile } from './sketch.js';

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);
const HTTP = METRIC.httpRequest;
const sqlite = STORE_FIXTURES.find((f) => f.name === 'sqlite')!;
const labels = { route: '/a', method: 'GET', status_class: '2xx' };

describe('hourly compaction and retention', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let clock: FakeClock;
  let a: MetricsEngine;
  let b: MetricsEngine;

  beforeEach(async () => {
    ({ store, cleanup } = await sqlite.open());
    clock = new FakeClock(T0);
    const metrics = { retention: '2h', hourly_retention: '1d' };
    a = testEngine({ store, clock, instance: 'a', metrics });
    b = testEngine({ store, clock, instance: 'b', metrics });
    // three hours of data: one sample per minute per instance, a's values 1..60, b's ten times larger
    for (let m = 0; m < 180; m++) {
      clock.set(T0 + m * MINUTE_MS + 1000);
      a.record(HTTP, labels, (m % 60) + 1, m % 60 === 0);
      b.record(HTTP, labels, ((m % 60) + 1) * 10);
    }
    clock.set(T0 + 3 * HOUR_MS + 10 * MINUTE_MS);
    await a.flush();
    await b.flush();
  });
  afterEach(async () => {
    a.recorder.close();
    b.recorder.close();
    await cleanup();
  });

  const hourly = () => store.rollups.query({ resolution: HOUR_MS, since: 0, until: T0 * 2 });

  test('whole hours become one row per series and instance, with the minutes’ sketches merged', async () => {
    const r = await a.compact({ now: clock.now() });
    assert.deepEqual([r.hours, r.rows, r.until], [3, 6, T0 + 3 * HOUR_MS]);
    const rows = await hourly();
    const a13 = rows.find((x) => x.instance === 'a' && x.bucket === T0 + HOUR_MS)!;
    assert.deepEqual([a13.count, a13.sum, a13.min, a13.max, a13.errors], [60, 1830, 1, 60, 1]);
    const sketch = decodeSketch(a13.sketch!);
    assert.equal(sketch.count, 60);
    const p95 = sketchQuantile(sketch, 0.95, a13.min, a13.max)!;
    assert.ok(Math.abs(p95 - 57) / 57 <= 0.01, `p95 ${p95}`);
    // running again changes nothing
    await a.compact({ now: clock.now() });
    assert.equal((await hourly()).length, 6);
  });

  test('an hour is not compacted until it has been over for the grace period', async () => {
    const r = await a.compact({ now: T0 + 2 * HOUR_MS + 4 * MINUTE_MS });
    assert.equal(r.until, T0 + HOUR_MS);
    assert.deepEqual([...new Set((await hourly()).map((x) => x.bucket))], [T0]);
  });

  test('a dry run counts, retention deletes old minutes after compacting, and reads still cover the period', async () => {
    const now = clock.now();
    const before = await a.performanceSummary({ since: T0, until: T0 + 3 * HOUR_MS });
    const dry = await a.applyRetention({ now, dryRun: true });
    // minute rows older than now - 2h (T0 + 1h10m): 70 per instance
    assert.deepEqual([dry.dryRun, dry.minuteRows, dry.hourlyRows], [true, 140, 0]);
    assert.equal((await hourly()).length, 0, 'a dry run writes nothing');
    const done = await a.applyRetention({ now });
    assert.deepEqual([done.minuteRows, done.hourlyRows, done.compaction?.rows], [140, 0, 6]);
    const after = await a.performanceSummary({ since: T0, until: T0 + 3 * HOUR_MS });
    assert.equal(after.overall.count, 360);
    assert.equal(after.overall.count, before.overall.count);
    assert.equal(after.overall.errors, 3);
    assert.equal(after.overall.max, 600);
    assert.ok(Math.abs(after.overall.p50! - before.overall.p50!) / before.overall.p50! <= 0.01);
    // a day later the hourly rows go too
    const later = await a.applyRetention({ now: now + 2 * 86_400_000 });
    assert.equal(later.hourlyRows, 6);
    assert.equal((await a.performanceSummary({ since: T0, until: T0 + 3 * HOUR_MS })).overall.count, 0);
  });
});
