import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { METRIC } from '../metrics/names.js';
import type { RollupEntry } from '../metrics/read.js';
import { canonicalLabels, HOUR_MS, MINUTE_MS } from '../metrics/rollup.js';
import { newSketch, sketchAdd } from '../metrics/sketch.js';
import { buildCharts, chartMarkers, dataSpan, sparkline } from './charts.js';
import { spark } from './views/format.js';
import { sparkMarks } from './views/overview.js';

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

  test('deploy markers: those of the period, oldest first, their time in unix seconds as the slots', () => {
    const d = (id: string, at: number, instance: string | null = null) => ({
      id,
      version: `v-${id}`,
      instance,
      note: null,
      at,
      by: 'ci',
    });
    const list = [
      d('c', T0 + 30 * MINUTE_MS, 'web-1'),
      d('a', T0),
      d('b', T0 + 30 * MINUTE_MS),
      d('z', T0 - 1),
    ];
    assert.deepEqual(chartMarkers(list, T0, T0 + HOUR_MS), [
      { at: T0 / 1000, version: 'v-a', instance: null, note: null, by: 'ci' },
      { at: (T0 + 30 * MINUTE_MS) / 1000, version: 'v-b', instance: null, note: null, by: 'ci' },
      { at: (T0 + 30 * MINUTE_MS) / 1000, version: 'v-c', instance: 'web-1', note: null, by: 'ci' },
    ]);
    assert.deepEqual(chartMarkers([d('late', T0 + HOUR_MS + 1)], T0, T0 + HOUR_MS), []);
  });

  test("a check's sparkline places markers at their slot; none on stored results, which no clock places", () => {
    const view = {
      name: 'db',
      kind: 'postgres',
      status: 'healthy' as const,
      responseTimeMs: 3,
      details: {},
      error: null,
      critical: true,
      checkedAt: T0 + HOUR_MS,
      recent: Array.from({ length: 30 }, () => 3),
      recentSince: T0,
    };
    const marker = (at: number) => ({
      id: `dp_${at}`,
      version: 'v9',
      instance: null,
      note: null,
      at,
      by: 'ci',
    });
    // 30 slots of 2 minutes, point i at i/29 of the width: 29 slots in is the right edge.
    const marks = sparkMarks(view, [marker(T0), marker(T0 + 29 * 2 * MINUTE_MS), marker(T0 - 1)], HOUR_MS);
    assert.deepEqual(
      marks.map((m) => m.x),
      [0, 1],
    );
    assert.match(marks[0]!.title, /^deploy v9 · 2026-01-01 10:00:00 UTC · by ci$/);
    assert.deepEqual(sparkMarks({ ...view, recentSince: null }, [marker(T0)], HOUR_MS), []);
    const svg = spark(view.recent, 'db response time', marks).value;
    assert.equal(svg.match(/<line class="deploy-mark" x1="(\d+\.\d)"/g)?.length, 2);
    assert.match(svg, /x1="120\.0" x2="120\.0" y1="0" y2="28"><title>deploy v9 ·/);
    assert.match(svg, /aria-label="db response time: latest 3 ms, max 3 ms, deploy v9 ·/);
  });
});
