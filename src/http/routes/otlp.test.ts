import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { tempDir } from '../../../test/support/services.js';
import { type App, createApp } from '../../app.js';
import { FakeClock } from '../../core/clock.js';
import { METRIC } from '../../metrics/names.js';
import { decodeResponse, encodeRequest } from '../../metrics/otlp/decode.js';
import { MINUTE_MS } from '../../metrics/rollup.js';

const PUSH = 'otlp-push-token-0123456789abcdef';
const READ = 'otlp-read-token-0123456789abcdef';
const T0 = Date.UTC(2026, 2, 2, 10, 0, 30);
const BUCKET = T0 - (T0 % MINUTE_MS);
const nanos = (ms: number) => `${BigInt(ms) * 1_000_000n}`;

/** An export of `http.server.request.duration` (cumulative, seconds) for one route. */
function httpExport(instance: string, route: string, counts: number[], time = T0, extra: object[] = []) {
  return {
    resourceMetrics: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'shop' } },
            { key: 'service.instance.id', value: { stringValue: instance } },
          ],
        },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'http.server.request.duration',
                unit: 's',
                histogram: {
                  aggregationTemporality: 2,
                  dataPoints: [
                    {
                      attributes: [
                        { key: 'http.route', value: { stringValue: route } },
                        { key: 'http.request.method', value: { stringValue: 'GET' } },
                        { key: 'http.response.status_code', value: { intValue: '200' } },
                      ],
                      startTimeUnixNano: nanos(T0 - 10_000),
                      timeUnixNano: nanos(time),
                      count: String(counts.reduce((a, b) => a + b, 0)),
                      sum: 0.03 * counts.reduce((a, b) => a + b, 0),
                      bucketCounts: counts.map(String),
                      explicitBounds: [0.01, 0.05, 0.1].slice(0, counts.length - 1),
                    },
                  ],
                },
              },
              ...extra,
            ],
          },
        ],
      },
    ],
  };
}

describe('POST /v1/metrics', () => {
  const dir = tempDir();
  const clock = new FakeClock(T0);
  let m: App;

  before(async () => {
    m = createApp(
      {
        data_dir: dir.path,
        logs: { stdout: false },
        instance: 'hub',
        metrics: { ingest: { per_instance: { max_new_series_per_minute: 3 } } },
        health: { builtin_checks: false },
        auth: {
          tokens: [
            { name: 'otel', token: PUSH, role: 'push' },
            { name: 'viewer', token: READ, role: 'read' },
          ],
        },
      },
      { env: {}, fileLogs: false, clock },
    );
    await m.start();
  });
  after(async () => {
    await m.stop({ drainDelayMs: 0 });
    dir.cleanup();
  });

  const post = (
    body: Buffer | string,
    headers: Record<string, string> = { 'content-type': 'application/x-protobuf' },
    token = PUSH,
  ) =>
    m.http.inject({
      method: 'POST',
      url: '/v1/metrics',
      headers: { authorization: `Bearer ${token}`, ...headers },
      payload: body,
    });

  const stored = async (instance: string) =>
    (
      await m.store.rollups.query({
        metrics: [METRIC.httpRequest],
        resolution: MINUTE_MS,
        since: 0,
        until: T0 + 10 * MINUTE_MS,
      })
    ).filter((r) => r.instance === instance);

  test('a gzip protobuf export is stored under service.name/service.instance.id, answered in protobuf', async () => {
    const body = gzipSync(encodeRequest(httpExport('pod-1', '/a/:id', [2, 1, 0, 0])));
    const res = await post(body, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /application\/x-protobuf/);
    assert.deepEqual(decodeResponse(res.rawPayload), {});
    const rows = await stored('shop/pod-1');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.bucket, BUCKET);
    assert.equal(rows[0]!.count, 3);
    assert.equal(rows[0]!.labels, '{"method":"GET","route":"/a/:id","status_class":"2xx"}');
  });

  test('summaries are answered with a partial success, the rest is stored (JSON)', async () => {
    const summary = {
      name: 'rpc.latency',
      unit: 's',
      summary: {
        dataPoints: [
          { count: '3', sum: 1, timeUnixNano: nanos(T0) },
          { count: '1', sum: 1 },
        ],
      },
    };
    const res = await post(JSON.stringify(httpExport('pod-2', '/b', [1, 0], T0, [summary])), {
      'content-type': 'application/json',
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.partialSuccess.rejectedDataPoints, 2);
    assert.match(body.partialSuccess.errorMessage, /rpc\.latency: summary is not supported/);
    assert.equal((await stored('shop/pod-2'))[0]!.count, 1);
  });

  test('malformed bodies are 400 naming what is wrong', async () => {
    const garbage = await post(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]));
    assert.equal(garbage.statusCode, 400);
    assert.match(garbage.json().error.message, /not an ExportMetricsServiceRequest protobuf/);
    const json = await post('{"resourceMetrics": [', { 'content-type': 'application/json' });
    assert.equal(json.statusCode, 400);
    assert.match(json.json().error.message, /not valid JSON/);
    const typed = await post('{"resourceMetrics": [{"scopeMetrics": {"metrics": 1}}]}', {
      'content-type': 'application/json',
    });
    assert.equal(typed.statusCode, 400);
    assert.match(typed.json().error.message, /resourceMetrics\[0\]\.scopeMetrics: must be an array/);
    const zipped = await post(Buffer.from('not gzip'), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    assert.equal(zipped.statusCode, 400);
    assert.match(zipped.json().error.message, /gzip body could not be inflated/);
    const br = await post('{}', { 'content-type': 'application/json', 'content-encoding': 'br' });
    assert.equal(br.statusCode, 400);
    assert.match(br.json().error.message, /Content-Encoding "br" is not supported/);
    assert.equal((await post('x', { 'content-type': 'text/plain' })).statusCode, 415);
  });

  test('a push token is needed', async () => {
    assert.equal((await post('{}', { 'content-type': 'application/json' }, READ)).statusCode, 403);
    assert.equal((await post('{}', { 'content-type': 'application/json' }, 'wrong')).statusCode, 401);
  });

  test('the ingest limits apply: over the new-series allowance is 429, the retry counts nothing twice', async () => {
    const routes = ['/c1', '/c2', '/c3', '/c4'];
    const one = (route: string, n: number) => httpExport('pod-3', route, [n, 0]).resourceMetrics[0]!;
    const exp = { resourceMetrics: [{ ...one(routes[0]!, 2) }] };
    exp.resourceMetrics[0]!.scopeMetrics[0]!.metrics = routes.map(
      (r) => one(r, 2).scopeMetrics[0]!.metrics[0]!,
    );
    // the allowance (3 a minute) was partly used by the instances above; pod-3's is its own
    const body = encodeRequest(exp);
    const limited = await post(body);
    assert.equal(limited.statusCode, 429, limited.body);
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    assert.equal(limited.json().error.limit, 'metrics.ingest.per_instance.max_new_series_per_minute');
    await clock.advance(MINUTE_MS / 3 + 1000);
    const retried = await post(body);
    assert.equal(retried.statusCode, 200, retried.body);
    const rows = await stored('shop/pod-3');
    assert.deepEqual(
      rows.map((r) => r.count),
      [2, 2, 2, 2],
    );
  });
});
