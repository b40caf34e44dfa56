import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { METRIC } from '../metrics/names.js';
import type { RollupEntry } from '../metrics/read.js';
import { canonicalLabels, HOUR_MS, MINUTE_MS } from '../metrics/rollup.js';
import { newSketch, sketchAdd } from '../metrics/sketch.js';
import { buildCharts, dataSpan, sparkline } from './charts.js';

function entry(
  metric: string,
  labels: Record<string, string>,
  bucket: number,
  values: number[],
  errors = 0,
  resolution = MINUTE_MS,
): RollupEntry {
  const sk = newSketch();
  for (const v of values) sketchAdd(sk, v);
  return {
    metric,
    labelsJson: canonicalLabels(labels),
    instance: 'i1',
    resolution,
    bucket,
    count: values.length,
    sum: values.reduce((a, b) => a + b, 0),
    min: Math.min(...values),
    max: Math.max(...values),
    errors,
    sketch: () => sk,
  };
}

const T0 = Date.UTC(2026, 0, 1, 10);

describe('chart series', () => {
  test('per-minute requests give throughput, error rate and latency quantiles per slot', () => {
    const route = { route: '/a', method: 'GET', status_class: '2xx' };
    const entries = [
      entry(
        METRIC.httpRequest,
        route,
        T0,
        Array.from({ length: 60 }, (_, i) => i + 1),
        6,
      ),
      entry(METRIC.httpRequest, { ...route, route: '/b' }, T0, [1000, 1000, 1000]),
      entry(METRIC.httpRequest, route, T0 + 2 * MINUTE_MS, [10, 10]),
    ];
    const c = buildCharts(entries, T0, T0 + 3 * MINUTE_MS, MINUTE_MS);
    assert.deepEqual(c.times, [T0 / 1000, T0 / 1000 + 60, T0 / 1000 + 120]);
    const byId = Object.fromEntries(c.charts.map((x) => [x.id, x]));
    assert.deepEqual(
      byId.throughput!.series[0]!.values,
      [63 / 60, 0, 2 / 60].map((v) => Math.round(v * 1000) / 1000),
    );
    assert.deepEqual(byId.errors!.series[0]!.values, [Math.round((600 / 63) * 1000) / 1000, null, 0]);
    const [p50, p95, p99] = byId.latency!.series.map((s) => s.values[0]!);
    assert.ok(Math.abs(p50! - 32) <= 1.5, `p50 ${p50}`);
    assert.equal(p99, 1000);
    assert.ok(p95! >= 57 && p95! <= 61, `p95 ${p95}`);
    assert.equal(byId.latency!.series[0]!.values[1], null);
    assert.equal(byId.db, undefined, 'no query data: no chart');
  });

  test('an hourly row is spread evenly over the slots of its hour', () => {
    const e = entry(
      METRIC.httpRequest,
      { route: '/a' },
      T0,
      Array.from({ length: 600 }, () => 5),
      0,
      HOUR_MS,
    );
    const c = buildCharts([e], T0, T0 + HOUR_MS, 10 * MINUTE_MS);
    const tp = c.charts.find((x) => x.id === 'throughput')!.series[0]!.values;
    assert.equal(tp.length, 6);
    for (const v of tp) assert.equal(v, Math.round((100 / 600) * 1000) / 1000);
  });

  test('throughput has no value before the first or after the last minute with data, and a rate over the covered part of a slot', () => {
    const route = { route: '/a', method: 'GET', status_class: '2xx' };
    const entries = [
      entry(METRIC.cpu, { scope: 'host' }, T0 + 2 * MINUTE_MS, [10]),
      entry(
        METRIC.httpRequest,
        route,
        T0 + 3 * MINUTE_MS,
        Array.from({ length: 120 }, () => 5),
      ),
      entry(METRIC.cpu, { scope: 'host' }, T0 + 4 * MINUTE_MS, [10]),
    ];
    const minutes = buildCharts(entries, T0, T0 + 6 * MINUTE_MS, MINUTE_MS);
    assert.deepEqual(
      minutes.charts.find((x) => x.id === 'throughput')!.series[0]!.values,
      [null, null, 0, 2, 0, null],
      'no value where nothing was recorded; a recorded minute without requests is a rate of 0',
    );
    // 10-minute slots: the data covers minutes 2 to 5 of the first, so its rate is over 3 minutes.
    const blocks = buildCharts(entries, T0, T0 + 20 * MINUTE_MS, 10 * MINUTE_MS);
    assert.deepEqual(blocks.charts.find((x) => x.id === 'throughput')!.series[0]!.values, [
      Math.round((120 / 180) * 1000) / 1000,
      null,
    ]);
    assert.deepEqual(dataSpan(entries, T0, T0 + 20 * MINUTE_MS), {
      from: T0 + 2 * MINUTE_MS,
      until: T0 + 5 * MINUTE_MS,
    });
    assert.equal(dataSpan([], T0, T0 + MINUTE_MS), null);
  });

  test('system figures are averaged per slot, one disk series per path', () => {
    const entries = [
      entry(METRIC.cpu, { scope: 'host' }, T0, [10, 30]),
      entry(METRIC.cpu, { scope: 'process' }, T0, [5]),
      entry(METRIC.disk, { path: '/data' }, T0, [70]),
      entry(METRIC.disk, { path: '/' }, T0, [40]),
      entry(METRIC.eventLoopLag, {}, T0, [1, 2, 3]),
    ];
    const c = buildCharts(entries, T0, T0 + MINUTE_MS, MINUTE_MS);
    const byId = Object.fromEntries(c.charts.map((x) => [x.id, x]));
    assert.deepEqual(
      byId.cpu!.series.map((s) => [s.label, s.values[0]]),
      [
        ['host', 20],
        ['process', 5],
      ],
    );
    assert.deepEqual(
      byId.disk!.series.map((s) => [s.label, s.values[0]]),
      [
        ['/', 40],
        ['/data', 70],
      ],
    );
    assert.equal(byId.eventloop!.series[0]!.values[0], 2);
  });

  test('sparklines average each key per slot and leave gaps as null', () => {
    const entries = [
      entry(METRIC.checkDuration, { check: 'db' }, T0, [4, 6]),
      entry(METRIC.checkDuration, { check: 'db' }, T0 + 2 * MINUTE_MS, [10]),
      entry(METRIC.checkDuration, { check: 'cache' }, T0 + MINUTE_MS, [1]),
    ];
    const s = sparkline(entries, (l) => l.check ?? null, T0, T0 + 3 * MINUTE_MS, 3);
    assert.deepEqual(s.get('db'), [5, null, 10]);
    assert.deepEqual(s.get('cache'), [null, 1, null]);
  });
});
