import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeSketch, sketchQuantile } from '../sketch.js';
import { parseBatch, type WireRow } from '../wire.js';
import type { Attributes, ExpHistogramPoint, HistogramPoint, OtlpData, OtlpRequest } from './decode.js';
import { instanceOf, OtlpMapper } from './map.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const MIN = 60_000;
const resource = { 'service.name': 'shop', 'service.instance.id': 'pod-1' };
const http200 = {
  'http.route': '/products/:id',
  'http.request.method': 'GET',
  'http.response.status_code': '200',
};
const http500 = { ...http200, 'http.response.status_code': '503' };
const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

function req(name: string, unit: string, data: OtlpData, res: Attributes = resource): OtlpRequest {
  return { resourceMetrics: [{ resource: res, metrics: [{ name, unit, data }] }] };
}

function hist(
  attributes: Attributes,
  start: number,
  time: number,
  counts: number[],
  sum: number,
): HistogramPoint {
  const full = [...counts, ...new Array(BOUNDS.length + 1 - counts.length).fill(0)];
  return {
    attributes,
    start,
    time,
    count: full.reduce((a, b) => a + b, 0),
    sum,
    bounds: BOUNDS,
    counts: full,
  };
}

const cumulative = (points: HistogramPoint[]): OtlpData => ({ kind: 'histogram', temporality: 2, points });

async function rowsOf(m: OtlpMapper, r: OtlpRequest, now = T0 + 5 * MIN): Promise<WireRow[]> {
  const out = await m.map('tok', r, now);
  return out.batches.flatMap((b) => b.rows);
}

function p(row: WireRow, q: number): number {
  return sketchQuantile(decodeSketch(Buffer.from(row.sketch!, 'base64')), q, row.min, row.max)!;
}

describe('OTLP mapping', () => {
  test('http.server.request.duration: cumulative points become per-minute rows of the differences, in ms', async () => {
    const m = new OtlpMapper();
    const r1 = await rowsOf(
      m,
      req('http.server.request.duration', 's', cumulative([hist(http200, T0, T0 + 10_000, [0, 0, 4], 0.08)])),
    );
    assert.equal(r1.length, 1);
    const a = r1[0]!;
    assert.equal(a.metric, 'http_request_duration_ms');
    assert.deepEqual(a.labels, { route: '/products/:id', method: 'GET', status_class: '2xx' });
    assert.equal(a.bucket, T0);
    assert.equal(a.count, 4);
    assert.ok(Math.abs(a.sum - 80) < 1e-9);
    assert.equal(a.errors, 0);
    // 4 values in (10, 25] ms: at the midpoint
    assert.ok(Math.abs(p(a, 0.5) - 17.5) < 17.5 * 0.011);
    // the next export, a minute later: only the 6 new values (in (50, 75] ms)
    const r2 = await rowsOf(
      m,
      req(
        'http.server.request.duration',
        's',
        cumulative([hist(http200, T0, T0 + 70_000, [0, 0, 4, 0, 6], 0.46)]),
      ),
    );
    assert.equal(r2.length, 1);
    assert.equal(r2[0]!.bucket, T0 + MIN);
    assert.equal(r2[0]!.count, 6);
    assert.ok(Math.abs(r2[0]!.sum - 380) < 1e-9);
    assert.equal(r2[0]!.min, 50);
    assert.equal(r2[0]!.max, 75);
    // rows are valid pushes
    const parsed = await parseBatch({ instance: 'shop/pod-1', rows: r2 }, T0 + 5 * MIN);
    assert.equal(parsed.rows[0]!.count, 6);
  });

  test('exports within one minute grow its row; an export sent again is not counted twice', async () => {
    const m = new OtlpMapper();
    const first = req(
      'http.server.request.duration',
      's',
      cumulative([hist(http200, T0, T0 + 10_000, [2], 0.004)]),
    );
    await rowsOf(m, first);
    const second = req(
      'http.server.request.duration',
      's',
      cumulative([hist(http200, T0, T0 + 20_000, [5], 0.01)]),
    );
    const grown = await rowsOf(m, second);
    assert.equal(grown[0]!.count, 5);
    const again = await rowsOf(m, second);
    assert.equal(again.length, 1);
    assert.equal(again[0]!.count, 5);
  });

  test('5xx points count as errors (4xx too when configured); other attributes fold into the same row', async () => {
    const m = new OtlpMapper();
    const rows = await rowsOf(
      m,
      req(
        'http.server.request.duration',
        's',
        cumulative([
          hist(http500, T0, T0 + 10_000, [3], 0.01),
          hist({ ...http500, 'network.protocol.version': '2' }, T0, T0 + 10_000, [1], 0.002),
          hist({ ...http200, 'http.response.status_code': '404' }, T0, T0 + 10_000, [1], 0.002),
        ]),
      ),
    );
    const byClass = Object.fromEntries(rows.map((r) => [r.labels.status_class, r]));
    assert.equal(byClass['5xx']!.count, 4);
    assert.equal(byClass['5xx']!.errors, 4);
    assert.equal(byClass['4xx']!.errors, 0);
    const strict = new OtlpMapper({ errorStatuses: '4xx+5xx' });
    const r4 = await rowsOf(
      strict,
      req(
        'http.server.request.duration',
        's',
        cumulative([hist({ ...http200, 'http.response.status_code': '404' }, T0, T0 + 1000, [1], 0.002)]),
      ),
    );
    assert.equal(r4[0]!.errors, 1);
  });

  test('a cumulative series first seen long after its start is only the base of the next difference', async () => {
    const m = new OtlpMapper();
    const old = T0 - 60 * MIN;
    assert.equal(
      (
        await rowsOf(
          m,
          req('http.server.request.duration', 's', cumulative([hist(http200, old, T0, [100], 0.2)])),
        )
      ).length,
      0,
    );
    const next = await rowsOf(
      m,
      req('http.server.request.duration', 's', cumulative([hist(http200, old, T0 + 30_000, [103], 0.206)])),
    );
    assert.equal(next[0]!.count, 3);
    // a restart (new start time): the new series counts whole
    const restarted = await rowsOf(
      m,
      req(
        'http.server.request.duration',
        's',
        cumulative([hist(http200, T0 + 40_000, T0 + 50_000, [2], 0.004)]),
      ),
    );
    assert.equal(restarted[0]!.count, 5);
  });

  test('delta histograms are taken as they are, with their exact min and max', async () => {
    const m = new OtlpMapper();
    const point = { ...hist(http200, T0, T0 + 10_000, [0, 0, 0, 0, 0, 0, 2], 0.3), min: 0.12, max: 0.18 };
    const rows = await rowsOf(
      m,
      req('http.server.request.duration', 's', { kind: 'histogram', temporality: 1, points: [point] }),
    );
    assert.equal(rows[0]!.count, 2);
    assert.equal(rows[0]!.min, 120);
    assert.equal(rows[0]!.max, 180);
    // bucket (100, 250] clamped to [120, 180]: midpoint 150
    assert.ok(Math.abs(p(rows[0]!, 0.5) - 150) < 2);
  });

  test('exponential histograms: quantiles within (b-1)/(b+1) + 1 %, differences across a lower scale', async () => {
    const m = new OtlpMapper();
    const scale = 3;
    const base = 2 ** (2 ** -scale);
    // values 100 ms, 10 times: index floor(log_base(0.1)) (buckets (b^i, b^(i+1)])
    const index = Math.ceil(Math.log(0.1) / Math.log(base)) - 1;
    const exp = (count: number, time: number, sc = scale, idx = index): ExpHistogramPoint => ({
      attributes: http200,
      start: T0,
      time,
      count,
      sum: count * 0.1,
      scale: sc,
      zeroCount: 0,
      positive: { offset: idx, counts: [count] },
      negative: { offset: 0, counts: [] },
    });
    const data = (pt: ExpHistogramPoint): OtlpData => ({
      kind: 'exponentialHistogram',
      temporality: 2,
      points: [pt],
    });
    const r1 = await rowsOf(m, req('http.server.request.duration', 's', data(exp(10, T0 + 1000))));
    const bound = (base - 1) / (base + 1) + 0.011;
    assert.ok(Math.abs(p(r1[0]!, 0.95) - 100) / 100 <= bound, `p95 ${p(r1[0]!, 0.95)}`);
    // the SDK lowered the scale by one: the previous buckets are merged pairwise before the difference
    const r2 = await rowsOf(
      m,
      req('http.server.request.duration', 's', data(exp(15, T0 + 2000, scale - 1, index >> 1))),
    );
    assert.equal(r2[0]!.count, 15);
  });

  test('db.client.operation.duration becomes the query time metric', async () => {
    const m = new OtlpMapper();
    const attrs = { 'db.system.name': 'postgresql', 'db.namespace': 'shop', 'db.operation.name': 'SELECT' };
    const rows = await rowsOf(
      m,
      req('db.client.operation.duration', 's', cumulative([hist(attrs, T0, T0 + 1000, [1], 0.003)])),
    );
    assert.equal(rows[0]!.metric, 'db_query_duration_ms');
    assert.deepEqual(rows[0]!.labels, { db: 'shop', operation: 'select' });
  });

  test('other metrics: gauges as values, counters as increases, under their own names and attributes', async () => {
    const m = new OtlpMapper();
    const gauge = await rowsOf(
      m,
      req('queue.depth', '{items}', {
        kind: 'gauge',
        points: [{ attributes: { 'queue.name': 'mail' }, start: 0, time: T0 + 1000, value: 7 }],
      }),
    );
    assert.equal(gauge[0]!.metric, 'queue.depth');
    assert.deepEqual(gauge[0]!.labels, { queue_name: 'mail' });
    assert.equal(gauge[0]!.sum, 7);
    const counter = (value: number, time: number): OtlpData => ({
      kind: 'sum',
      monotonic: true,
      temporality: 2,
      points: [{ attributes: {}, start: T0, time, value }],
    });
    assert.equal((await rowsOf(m, req('jobs.done', '1', counter(10, T0 + 1000))))[0]!.sum, 10);
    const grown = await rowsOf(m, req('jobs.done', '1', counter(25, T0 + 2000)));
    assert.equal(grown[0]!.sum, 25); // the minute's increases: 10 then 15
    assert.equal(grown[0]!.count, 2);
  });

  test('summaries and unspecified temporality are rejected points, not errors', async () => {
    const m = new OtlpMapper();
    const out = await m.map(
      'tok',
      req('rpc.duration', 's', { kind: 'unsupported', what: 'summary', points: 3 }),
      T0,
    );
    assert.equal(out.rejected, 3);
    assert.match(out.reasons[0]!, /summary is not supported/);
    const u = await m.map(
      'tok',
      req('x', 's', { kind: 'histogram', temporality: 0, points: [hist({}, T0, T0, [1], 1)] }),
      T0,
    );
    assert.equal(u.rejected, 1);
    assert.match(u.reasons[0]!, /temporality/);
  });

  test('series beyond the limit are rejected', async () => {
    const m = new OtlpMapper({ maxSeries: 2 });
    const points = [1, 2, 3].map((i) => ({ attributes: { i: String(i) }, start: 0, time: T0, value: i }));
    const out = await m.map('tok', req('g', '1', { kind: 'gauge', points }), T0);
    assert.equal(out.rejected, 1);
    assert.equal(out.batches[0]!.rows.length, 2);
  });

  test('the instance is service.name/service.instance.id', () => {
    assert.equal(instanceOf(resource), 'shop/pod-1');
    assert.equal(instanceOf({ 'service.name': 'my shop', 'host.name': 'h1' }), 'my_shop/h1');
    assert.equal(instanceOf({}), 'unknown_service/default');
  });
});
