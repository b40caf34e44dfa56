import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  aggregate,
  bucketStart,
  canonicalLabels,
  emptyStats,
  HOUR_MS,
  MINUTE_MS,
  mergeStats,
  parseLabels,
  performanceFigures,
  type RollupStats,
} from './rollup.js';
import { newSketch, sketchAdd } from './sketch.js';

function stats(values: number[], errors = 0): RollupStats {
  const s = emptyStats();
  const sk = newSketch();
  for (const v of values) sketchAdd(sk, v);
  mergeStats(
    s,
    {
      count: values.length,
      sum: values.reduce((a, b) => a + b, 0),
      min: Math.min(...values),
      max: Math.max(...values),
      errors,
    },
    sk,
  );
  return s;
}

test('bucket starts align down to the resolution', () => {
  const t = Date.UTC(2026, 0, 1, 12, 34, 56, 789);
  assert.equal(bucketStart(t, MINUTE_MS), Date.UTC(2026, 0, 1, 12, 34));
  assert.equal(bucketStart(t, HOUR_MS), Date.UTC(2026, 0, 1, 12));
  assert.equal(bucketStart(Date.UTC(2026, 0, 1, 12), HOUR_MS), Date.UTC(2026, 0, 1, 12));
});

test('canonical labels do not depend on key order and parse back', () => {
  const a = canonicalLabels({ route: '/a', method: 'GET' });
  assert.equal(a, canonicalLabels({ method: 'GET', route: '/a' }));
  assert.equal(a, '{"method":"GET","route":"/a"}');
  assert.deepEqual(parseLabels(a), { method: 'GET', route: '/a' });
  assert.deepEqual(parseLabels('not json'), {});
  assert.equal(canonicalLabels({ q: 'a"b\\c' }), '{"q":"a\\"b\\\\c"}');
});

test('merged statistics add counts, sums and errors and keep the extremes', () => {
  const s = stats([1, 2, 3], 1);
  const t = stats([10, 20], 2);
  const m = emptyStats();
  mergeStats(m, s, s.sketch);
  mergeStats(m, t, t.sketch);
  assert.deepEqual([m.count, m.sum, m.min, m.max, m.errors], [5, 36, 1, 20, 3]);
  assert.equal(m.sketch!.count, 5);
  // the inputs' sketches are not modified by merging
  assert.equal(s.sketch!.count, 3);
});

test('each aggregation reduces a window as documented', () => {
  const s = stats(
    Array.from({ length: 100 }, (_, i) => i + 1),
    6,
  );
  const fiveMin = 5 * MINUTE_MS;
  assert.equal(aggregate(s, 'count', fiveMin), 100);
  assert.equal(aggregate(s, 'sum', fiveMin), 5050);
  assert.equal(aggregate(s, 'avg', fiveMin), 50.5);
  assert.equal(aggregate(s, 'min', fiveMin), 1);
  assert.equal(aggregate(s, 'max', fiveMin), 100);
  assert.equal(aggregate(s, 'rate', fiveMin), 6 / 5);
  assert.equal(aggregate(s, 'ratio', fiveMin), 0.06);
  const p95 = aggregate(s, 'p95', fiveMin)!;
  assert.ok(Math.abs(p95 - 95) / 95 <= 0.01, `p95 ${p95}`);
  const p50 = aggregate(s, 'p50', fiveMin)!;
  assert.ok(Math.abs(p50 - 50) / 50 <= 0.01, `p50 ${p50}`);
});

test('an empty window has no value except count, sum and rate', () => {
  const e = emptyStats();
  for (const agg of ['p50', 'p99', 'avg', 'min', 'max', 'ratio'] as const)
    assert.equal(aggregate(e, agg, MINUTE_MS), null);
  assert.equal(aggregate(e, 'count', MINUTE_MS), 0);
  assert.equal(aggregate(e, 'sum', MINUTE_MS), 0);
  assert.equal(aggregate(e, 'rate', MINUTE_MS), 0);
});

test('performance figures give throughput per second and the error rate', () => {
  const f = performanceFigures(stats([100, 200, 300, 400], 1), 2000);
  assert.equal(f.count, 4);
  assert.equal(f.throughput, 2);
  assert.equal(f.errorRate, 0.25);
  assert.equal(f.avg, 250);
  assert.equal(f.max, 400);
  const empty = performanceFigures(emptyStats(), 1000);
  assert.deepEqual([empty.p95, empty.avg, empty.max, empty.errorRate], [null, null, null, 0]);
});
