import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../../test/support/services.js';
import { FakeClock } from '../core/clock.js';
import type { Labels } from '../domain/labels.js';
import { compact } from '../metrics/maintenance.js';
import { METRIC } from '../metrics/names.js';
import { readEntries, readRange } from '../metrics/read.js';
import { Recorder } from '../metrics/recorder.js';
import { bucketStart, HOUR_MS, MINUTE_MS } from '../metrics/rollup.js';
import { SUMMARY_METRICS, summarize } from '../metrics/summary.js';
import { openStore, type Store } from '../store/index.js';
import { buildCharts } from './charts.js';
import { PerformanceReader, type PerformanceView } from './performance.js';
import { PER_ROUTE, ViewEntries } from './reduce.js';

const NOW = Date.UTC(2026, 0, 9, 12, 30, 20);
const DAY = 86_400_000;
/** Where the 7-day view starts (at a whole hour). */
const SINCE = bucketStart(NOW - 7 * DAY, HOUR_MS);
const dir = tempDir();
let store: Store;

/** What was recorded per hour (start) and per route: the figures every view must show. */
const truth = { perHour: new Map<number, number>(), perRoute: new Map<string, number>(), errors: 0 };

function note(hour: number, route: string, n: number, errors: number) {
  truth.perHour.set(hour, (truth.perHour.get(hour) ?? 0) + n);
  truth.perRoute.set(route, (truth.perRoute.get(route) ?? 0) + n);
  truth.errors += errors;
}

/** Minute rows of `instance` over [from, to), written as a monitor flushes them. */
async function history(
  instance: string,
  from: number,
  to: number,
  routes: [string, number][],
  withSystem: boolean,
) {
  const rec = new Recorder({
    clock: new FakeClock(to),
    instance,
    maxSeries: 100,
    maxBufferedRows: 1_000_000,
  });
  const http = (route: string, cls: string) =>
    rec.series(METRIC.httpRequest, { route, method: 'GET', status_class: cls } satisfies Labels);
  const cpu = rec.series(METRIC.cpu, { scope: 'host' });
  const db = rec.series(METRIC.dbQuery, { db: 'main', operation: 'select' });
  for (let t = from; t < to; t += MINUTE_MS) {
    const minute = Math.round((t - from) / MINUTE_MS);
    for (const [route, ms] of routes) {
      rec.observe(http(route, '2xx'), ms, false, t + 1000);
      rec.observe(http(route, '2xx'), ms * 2, false, t + 2000);
      const failed = minute % 10 === 0;
      if (failed) rec.observe(http(route, '5xx'), ms * 5, true, t + 3000);
      if (t >= SINCE) note(bucketStart(t, HOUR_MS), route, failed ? 3 : 2, failed ? 1 : 0);
    }
    rec.observe(db, 3, false, t + 4000);
    if (withSystem) rec.observe(cpu, 40, false, t + 5000);
  }
  const batch = rec.collect(to + HOUR_MS);
  await store.rollups.upsert(batch.rows);
  batch.commit();
}

/** The monitor's own recorder, with this minute's requests not flushed yet. */
const recorder = new Recorder({ clock: new FakeClock(NOW), instance: 'reader', maxSeries: 100 });

before(async () => {
  store = await openStore({ driver: 'sqlite', path: join(dir.path, 'prodmon.db') });
  await store.migrate(NOW);
  // Eight days of two routes on shop-1 (the first day is outside the 7-day view), a third route on
  // shop-2 for the last two days, and the reading instance's own unflushed minute.
  await history(
    'shop-1',
    bucketStart(NOW, MINUTE_MS) - 8 * DAY,
    bucketStart(NOW, MINUTE_MS),
    [
      ['/a', 10],
      ['/b', 100],
    ],
    true,
  );
  await history(
    'shop-2',
    bucketStart(NOW, MINUTE_MS) - 2 * DAY,
    bucketStart(NOW, MINUTE_MS),
    [['/c', 40]],
    false,
  );
  const s = recorder.series(METRIC.httpRequest, { route: '/a', method: 'GET', status_class: '2xx' });
  for (let i = 0; i < 5; i++) recorder.observe(s, 10, false, NOW - 1000 * i);
  note(bucketStart(NOW, HOUR_MS), '/a', 5, 0);
});
after(async () => {
  recorder.close();
  await store.close();
  dir.cleanup();
});

/** A fresh reader (nothing cached) and its 7-day view. */
async function view7d(): Promise<PerformanceView> {
  return new PerformanceReader({ store, clock: new FakeClock(NOW), metrics: { recorder } }).view('7d');
}

/** Checks a view against what was recorded: totals, per route and per hour, nothing counted twice. */
function assertTruth(v: PerformanceView, what: string) {
  const total = [...truth.perRoute.values()].reduce((a, b) => a + b, 0);
  assert.equal(v.since, SINCE, 'the 7-day view starts at an hour');
  assert.equal(v.summary.overall.count, total, `${what}: total`);
  assert.equal(v.summary.overall.errors, truth.errors, `${what}: errors`);
  assert.deepEqual(
    Object.fromEntries(v.summary.routes.map((r) => [r.labels.route, r.figures.count])),
    Object.fromEntries(truth.perRoute),
    `${what}: per route`,
  );
  assert.deepEqual(v.summary.instances, ['reader', 'shop-1', 'shop-2']);
  const throughput = v.charts.charts.find((c) => c.id === 'throughput')!.series[0]!.values;
  v.charts.times.forEach((t, i) => {
    const hour = t * 1000;
    const seconds = Math.min(HOUR_MS, NOW - hour) / 1000;
    const want = Math.round(((truth.perHour.get(hour) ?? 0) / seconds) * 1000) / 1000;
    assert.equal(throughput[i], want, `${what}: requests in the hour from ${new Date(hour).toISOString()}`);
  });
}

describe('the 7-day view over minute rows, hourly rows and memory', () => {
  test('nothing compacted, half compacted, compacted to the last hour: the same figures, nothing counted twice', async () => {
    const none = await view7d();
    assertTruth(none, 'no hour compacted');
    await compact(store, { now: NOW - 3 * DAY - 20 * MINUTE_MS });
    const half = await view7d();
    assertTruth(half, 'compacted until 3 days ago');
    await compact(store, { now: NOW });
    const all = await view7d();
    assertTruth(all, 'compacted until the last whole hour');
    // Hourly rows hold the merged sketches: the quantiles are the minute rows' exactly.
    for (const v of [half, all]) {
      assert.deepEqual(
        [v.summary.overall.p50, v.summary.overall.p95, v.summary.overall.p99],
        [none.summary.overall.p50, none.summary.overall.p95, none.summary.overall.p99],
      );
      assert.deepEqual(
        v.charts.charts.find((c) => c.id === 'latency'),
        none.charts.charts.find((c) => c.id === 'latency'),
      );
      assert.deepEqual(
        v.summary.slowest.map((r) => [r.labels.route, r.figures.p95]),
        none.summary.slowest.map((r) => [r.labels.route, r.figures.p95]),
      );
    }
  });

  test('a row that arrives for an hour already compacted shows once the job compacts that hour again', async () => {
    await compact(store, { now: NOW });
    const hour = bucketStart(NOW - 5 * HOUR_MS, HOUR_MS);
    const late = new Recorder({ clock: new FakeClock(NOW), instance: 'shop-3', maxSeries: 10 });
    const s = late.series(METRIC.httpRequest, { route: '/late', method: 'GET', status_class: '2xx' });
    for (let i = 0; i < 7; i++) late.observe(s, 20, false, hour + 10 * MINUTE_MS + i);
    const batch = late.collect(NOW);
    await store.rollups.upsert(batch.rows);
    batch.commit();
    late.close();
    const before = await view7d();
    assert.equal(
      before.summary.routes.find((r) => r.labels.route === '/late'),
      undefined,
      'the hour is read from its hourly rows until compacted again',
    );
    const r = await compact(store, { now: NOW });
    assert.equal(r.recompacted, 1);
    note(hour, '/late', 7, 0);
    const v = await view7d();
    assert.equal(v.summary.routes.find((x) => x.labels.route === '/late')?.figures.count, 7);
    assert.deepEqual(v.summary.instances, ['reader', 'shop-1', 'shop-2', 'shop-3']);
    const total = [...truth.perRoute.values()].reduce((a, b) => a + b, 0);
    assert.equal(v.summary.overall.count, total);
  });

  test('the reduced entries give the summary and charts of the entries themselves', async () => {
    for (const [from, step] of [
      [SINCE, HOUR_MS],
      [NOW - DAY, 10 * MINUTE_MS],
      [NOW - HOUR_MS, MINUTE_MS],
    ] as const) {
      const range = readRange(from, NOW);
      const entries = await readEntries({ store, recorder }, SUMMARY_METRICS, range);
      const reduced = new ViewEntries(range.from, NOW);
      reduced.add(entries.slice(0, 1000));
      reduced.add(entries.slice(1000));
      const direct = summarize(entries, { ...range, since: from });
      const viaReduced = summarize(
        reduced.summary(),
        { ...range, since: from },
        undefined,
        reduced.instances,
      );
      // Sums are added in another order: equal to the last bits, so compared rounded.
      const round = (x: unknown) =>
        JSON.parse(JSON.stringify(x, (_k, v) => (typeof v === 'number' ? Number(v.toPrecision(12)) : v)));
      assert.deepEqual(round(viaReduced), round(direct));
      assert.deepEqual(
        round(buildCharts(reduced.charts(), from, NOW, step)),
        round(buildCharts(entries, from, NOW, step)),
      );
      // One entry per metric and bucket for the charts, per label set (all instances) for the summary.
      const heavy = entries.filter((e) => PER_ROUTE.has(e.metric));
      const distinct = (key: (e: (typeof entries)[number]) => string) => new Set(heavy.map(key)).size;
      const perRoute = (list: typeof entries) => list.filter((e) => PER_ROUTE.has(e.metric)).length;
      assert.equal(
        perRoute(reduced.charts()),
        distinct((e) => `${e.metric} ${e.bucket} ${e.resolution}`),
      );
      assert.equal(
        perRoute(reduced.summary()),
        distinct((e) => `${e.metric} ${e.labelsJson}`),
      );
    }
  });
});
