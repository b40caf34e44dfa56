import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bucketOf } from '../../../test/support/metrics.js';
import { tempDir } from '../../../test/support/services.js';
import { type App, createApp } from '../../app.js';
import { FakeClock } from '../../core/clock.js';
import type { RollupRow } from '../../domain/rollup.js';
import { METRIC } from '../../metrics/names.js';
import { Pusher } from '../../metrics/push.js';
import { canonicalLabels, MINUTE_MS, parseLabels } from '../../metrics/rollup.js';
import { decodeSketch } from '../../metrics/sketch.js';
import type { WireRow } from '../../metrics/wire.js';

const PUSH = 'push-token-0123456789abcdef';
const OTHER = 'other-push-token-0123456789';
const HTTP = METRIC.httpRequest;
const T0 = Date.UTC(2026, 2, 2, 10, 0, 30);
const BUCKET = T0 - (T0 % MINUTE_MS);

/** A row of `values` for one route, as a pusher sends it. */
function row(route: string, values: number[], bucket = BUCKET): WireRow {
  const b = bucketOf(values);
  return {
    metric: HTTP,
    labels: { route, method: 'GET', status_class: '2xx' },
    resolution: MINUTE_MS,
    bucket,
    ...b,
    errors: 0,
    sketch: b.sketch.toString('base64'),
  };
}

/** `n` rows of distinct routes (a runaway deploy: the raw URL as the route), two values each. */
const flood = (tag: string, n: number) =>
  Array.from({ length: n }, (_, j) => row(`/flood/${tag}/${j}`, [10 + (j % 7), 40 + (j % 11)]));

describe('push admission: a runaway pusher is bounded, what it sent is kept', () => {
  const dir = tempDir();
  const clock = new FakeClock(T0);
  let m: App;

  const push = (instance: string, rows: WireRow[], token = PUSH) =>
    m.http.inject({
      method: 'POST',
      url: '/production/ingest',
      headers: { authorization: `Bearer ${token}` },
      payload: { instance, rows },
    });
  /** The stored rows of an instance in the test's minute: label sets and counts. */
  const stored = async (instance: string) => {
    const rows = await m.store.rollups.query({
      metrics: [HTTP],
      resolution: MINUTE_MS,
      since: BUCKET,
      until: BUCKET + MINUTE_MS,
      instance,
    });
    return rows;
  };
  const total = (rows: { count: number }[]) => rows.reduce((a, r) => a + r.count, 0);

  before(async () => {
    m = createApp(
      {
        data_dir: dir.path,
        logs: { stdout: false },
        instance: 'hub',
        metrics: {
          max_series: 50,
          ingest: {
            max_rows_per_request: 1000,
            per_instance: { max_new_series_per_minute: 300, max_bytes_per_second: '2MB' },
            per_token: { max_instances: 3 },
          },
        },
        health: { builtin_checks: false, checks: [{ name: 'self', kind: 'self' }] },
        alerting: {
          health_checks: { for: '0s' },
          thresholds: {
            cpu_usage: { enabled: false },
            memory_usage: { enabled: false },
            disk_usage: { enabled: false },
            api_response_time: { enabled: false },
          },
        },
        auth: {
          tokens: [
            { name: 'agents', token: PUSH, role: 'push' },
            { name: 'others', token: OTHER, role: 'push' },
          ],
        },
      },
      { env: {}, fileLogs: false, clock },
    );
    await m.start();
    await clock.advance(1000); // the leader lease renews on this clock; only the leader evaluates
  });
  after(async () => {
    await m.stop({ drainDelayMs: 0 });
    dir.cleanup();
  });

  test('a flood of new series: metrics.max_series per pushing instance, the rest folded into (overflow), 429 past the new-series rate, one system alert naming the pusher', async () => {
    // 250 label sets: 50 become series (metrics.max_series), 200 fold into the overflow series.
    const first = await push('runaway', flood('a', 250));
    assert.equal(first.statusCode, 200, first.body);
    assert.deepEqual(first.json(), { accepted: 250, instance: 'runaway', folded: 200 });

    // 250 more: the minute's allowance of new label sets (300) has 50 left; the other 200 wait.
    const second = flood('b', 250);
    const limited = await push('runaway', second);
    assert.equal(limited.statusCode, 429, limited.body);
    const retryAfter = Number(limited.headers['retry-after']);
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${limited.headers['retry-after']}`);
    const body = limited.json() as {
      error: { code: string; message: string; limit: string; value: number; retryAfter: number };
      accepted: number;
      folded: number;
      rejected: number;
    };
    assert.equal(body.error.code, 'PRODMON_E_LIMIT');
    assert.equal(body.error.limit, 'metrics.ingest.per_instance.max_new_series_per_minute');
    assert.equal(body.error.value, 300);
    assert.equal(body.error.retryAfter, retryAfter);
    assert.match(body.error.message, /instance "runaway" \(token "agents"\)/);
    assert.match(body.error.message, /max_new_series_per_minute \(300\)/);
    assert.deepEqual([body.accepted, body.folded, body.rejected], [50, 50, 200]);

    // The pusher retries the same batch (as src/metrics/push.ts does): nothing counts twice.
    const again = await push('runaway', second);
    assert.equal(again.statusCode, 429);
    assert.deepEqual([again.json().accepted, again.json().rejected], [50, 200]);
    let rows = await stored('runaway');
    assert.equal(total(rows), 2 * 300, 'every accepted row counted once');

    // A minute later the allowance is back and the retry goes through whole.
    await clock.advance(60_000);
    const later = await push('runaway', second);
    assert.equal(later.statusCode, 200, later.body);
    assert.deepEqual(later.json(), { accepted: 250, instance: 'runaway', folded: 250 });

    // Twenty more pushes of the flood: the series stay bounded whatever comes.
    for (let k = 0; k < 20; k++) {
      await clock.advance(60_000);
      const r = await push('runaway', flood(`c${k}`, 250));
      assert.equal(r.statusCode, 200, r.body);
    }

    rows = await stored('runaway');
    const labelSets = new Set(rows.map((r) => r.labels));
    assert.equal(labelSets.size, 51, 'metrics.max_series (50) series and one overflow series');
    const overflow = rows.filter((r) =>
      Object.values(parseLabels(r.labels)).every((v) => v === '(overflow)'),
    );
    assert.equal(overflow.length, 1);
    const folded = 200 + 250 + 20 * 250;
    assert.equal(overflow[0]!.count, 2 * folded, 'the overflow series holds the folded counts');
    assert.equal(total(rows), 2 * (50 + folded), 'accepted rows kept: every value counted once');
    const sketch = decodeSketch(overflow[0]!.sketch!);
    assert.ok(Math.abs(sketch.count - 2 * folded) < 1e-6 * folded, `the sketch holds ${sketch.count}`);
    assert.ok(
      overflow[0]!.min >= 10 && overflow[0]!.max <= 50,
      `min ${overflow[0]!.min} max ${overflow[0]!.max}`,
    );

    // One system alert, naming the pusher and the limit.
    await m.health.run();
    await m.alerting.evaluateNow();
    const open = m.alerting.openAlerts().filter((a) => a.type === 'system');
    assert.equal(open.length, 1, JSON.stringify(open.map((a) => a.message)));
    assert.match(open[0]!.message, /instance "runaway" \(token "agents"\)/);
    assert.match(open[0]!.message, /metrics\.(max_series|ingest\.per_instance\.max_new_series_per_minute)/);
  });

  test('a re-sent minute that grew adds only its growth to the overflow series', async () => {
    const fill = Array.from({ length: 50 }, (_, j) => row(`/fill/${j}`, [5]));
    assert.equal((await push('grower', fill)).statusCode, 200);
    const before = [row('/grow', [10, 20])];
    const first = await push('grower', before);
    assert.deepEqual(first.json(), { accepted: 1, instance: 'grower', folded: 1 });
    assert.equal((await push('grower', before)).statusCode, 200); // the same version again
    const grown = [row('/grow', [10, 20, 30, 40])];
    assert.equal((await push('grower', grown)).statusCode, 200);
    const rows = await stored('grower');
    const overflow = rows.find((r) => parseLabels(r.labels).route === '(overflow)');
    assert.deepEqual([overflow?.count, overflow?.sum, overflow?.min, overflow?.max], [4, 100, 10, 40]);
    assert.ok(Math.abs(decodeSketch(overflow!.sketch!).count - 4) < 1e-9);
  });

  test('rows per request, bytes per second and instances per token: 429 naming the limit, nothing stored', async () => {
    const many = Array.from({ length: 1001 }, (_, j) =>
      row(`/r/${j % 40}`, [1], BUCKET - (j % 26) * MINUTE_MS),
    );
    const tooMany = await push('big', many);
    assert.equal(tooMany.statusCode, 429);
    assert.equal(tooMany.json().error.limit, 'metrics.ingest.max_rows_per_request');
    assert.equal(tooMany.headers['x-prodmon-max-rows'], '1000');
    assert.ok(Number(tooMany.headers['retry-after']) >= 1);
    assert.equal((await stored('big')).length, 0);

    // 2 MB/s with a burst of 20 MB: about 25 MB in a row, then 429 until it has refilled.
    const bulky = Array.from({ length: 1000 }, (_, j) =>
      row(
        `/b/${j % 40}`,
        Array.from({ length: 200 }, (_, k) => 1 + k * 37),
        BUCKET - Math.floor(j / 40) * MINUTE_MS,
      ),
    );
    let status = 200;
    let sent = 0;
    for (let k = 0; k < 40 && status === 200; k++) {
      const res = await push('bulky', bulky);
      status = res.statusCode;
      if (status === 429) {
        assert.equal(res.json().error.limit, 'metrics.ingest.per_instance.max_bytes_per_second');
        assert.ok(Number(res.headers['retry-after']) >= 1);
        assert.equal(res.json().accepted, 0);
      } else sent++;
    }
    assert.equal(status, 429, 'the bytes allowance ran out');
    assert.ok(sent >= 2, `${sent} pushes passed first`);
    await clock.advance(30_000);
    assert.equal((await push('bulky', bulky.slice(0, 10))).statusCode, 200, 'refilled');

    // Three instances per token (runaway, grower, bulky; `big` was refused before it counted).
    const fourth = await push('fourth', [row('/x', [1])]);
    assert.equal(fourth.statusCode, 429, 'an instance past max_instances is refused');
    assert.equal(fourth.json().error.limit, 'metrics.ingest.per_token.max_instances');
    assert.equal((await stored('fourth')).length, 0);
    // Another token has its own instances.
    assert.equal((await push('fourth', [row('/x', [1])], OTHER)).statusCode, 200);
  });

  test('a pusher told the rows limit cuts its batches to it; its rows wait until they are stored', async () => {
    const url = await m.listen('127.0.0.1', 0);
    const pusher = new Pusher({
      url,
      token: OTHER,
      intervalMs: 10_000,
      instance: 'batcher',
      clock,
      onError() {},
    });
    const rows: RollupRow[] = [];
    for (let b = 0; b < 50; b++) {
      for (let r = 0; r < 30; r++) {
        rows.push({
          metric: HTTP,
          labels: canonicalLabels({ route: `/p/${r}`, method: 'GET', status_class: '2xx' }),
          instance: 'batcher',
          resolution: MINUTE_MS,
          bucket: BUCKET - b * MINUTE_MS,
          count: 1,
          sum: 5,
          min: 5,
          max: 5,
          errors: 0,
          sketch: null,
        });
      }
    }
    pusher.enqueue(rows);
    await assert.rejects(pusher.send(), /answered 429/);
    assert.equal(pusher.buffered, 1500, 'kept for the next round');
    assert.equal(await pusher.send(), 1500);
    assert.equal(pusher.buffered, 0);
    const back = await m.store.rollups.query({
      metrics: [HTTP],
      resolution: MINUTE_MS,
      since: BUCKET - 50 * MINUTE_MS,
      until: BUCKET + MINUTE_MS,
      instance: 'batcher',
    });
    assert.equal(back.length, 1500);
  });
});

describe('push admission: the limits of a token over all its instances', () => {
  const dir = tempDir();
  const clock = new FakeClock(T0);
  let m: App;
  const push = (instance: string, rows: WireRow[]) =>
    m.http.inject({
      method: 'POST',
      url: '/production/ingest',
      headers: { authorization: `Bearer ${PUSH}` },
      payload: { instance, rows },
    });
  const labelSets = async (instance: string) =>
    new Set(
      (
        await m.store.rollups.query({
          metrics: [HTTP],
          resolution: MINUTE_MS,
          since: BUCKET - 60 * MINUTE_MS,
          until: BUCKET + MINUTE_MS,
          instance,
        })
      ).map((r) => parseLabels(r.labels).route),
    );

  before(async () => {
    m = createApp(
      {
        data_dir: dir.path,
        logs: { stdout: false },
        instance: 'hub',
        metrics: {
          ingest: {
            per_token: {
              max_series_per_metric: 10,
              max_new_series_per_minute: 30,
              max_bytes_per_second: '100KB',
            },
          },
        },
        health: { builtin_checks: false },
        auth: { tokens: [{ name: 'agents', token: PUSH, role: 'push' }] },
      },
      { env: {}, fileLogs: false, clock },
    );
    await m.start();
  });
  after(async () => {
    await m.stop({ drainDelayMs: 0 });
    dir.cleanup();
  });

  test('series per metric, new series per minute and bytes per second of a token: folded, then 429 naming the limit', async () => {
    const routes = (tag: string, n: number) => Array.from({ length: n }, (_, j) => row(`/${tag}/${j}`, [5]));
    assert.deepEqual((await push('a', routes('a', 8))).json(), { accepted: 8, instance: 'a' });
    // The token's 10 series: 2 more for b, its other 6 label sets folded into b's overflow series.
    assert.deepEqual((await push('b', routes('b', 8))).json(), { accepted: 8, instance: 'b', folded: 6 });
    assert.deepEqual([...(await labelSets('b'))].sort(), ['(overflow)', '/b/0', '/b/1']);

    // 16 label sets seen this minute; the token's 30 leave 14 for c.
    const limited = await push('c', routes('c', 20));
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json().error.limit, 'metrics.ingest.per_token.max_new_series_per_minute');
    assert.deepEqual([limited.json().accepted, limited.json().rejected], [14, 6]);
    assert.ok(Number(limited.headers['retry-after']) >= 1);

    // 100 KB/s with a burst of 1 MB, over all instances: about 1 MB in a row, then 429.
    await clock.advance(MINUTE_MS);
    // 50 minutes of one known series of the instance, about 250 KB.
    const values = Array.from({ length: 400 }, (_, k) => 1 + k * 25);
    const big = (instance: string) =>
      Array.from({ length: 50 }, (_, k) => row(`/${instance}/0`, values, BUCKET - k * MINUTE_MS));
    let refused = null;
    for (let i = 0; i < 20 && !refused; i++) {
      const res = await push(['a', 'b', 'c'][i % 3]!, big(['a', 'b', 'c'][i % 3]!));
      if (res.statusCode === 429) refused = res;
      else assert.equal(res.statusCode, 200, res.body);
    }
    assert.ok(refused, 'the token ran out of bytes');
    assert.equal(refused.json().error.limit, 'metrics.ingest.per_token.max_bytes_per_second');
    assert.equal(refused.json().accepted, 0);
  });
});
