import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, describe, test } from 'node:test';
import express from 'express';
import { closeServer, listenLocal, requestAll } from '../../../test/support/http-load.js';
import { parsePrometheusText } from '../../../test/support/prom-parser.js';
import { tempDir } from '../../../test/support/services.js';
import { waitFor } from '../../../test/support/wait.js';
import { type App, createApp } from '../../app.js';
import type { ConfigInput } from '../../config/schema.js';
import { METRIC } from '../../metrics/names.js';

const READ = 'read-token-0123456789abcdef';
const dirs: { cleanup: () => void }[] = [];
const monitors: App[] = [];
after(async () => {
  for (const m of monitors) await m.stop({ drainDelayMs: 0 });
  for (const d of dirs) d.cleanup();
});

async function started(config: ConfigInput = {}): Promise<App> {
  const d = tempDir();
  dirs.push(d);
  const m = createApp(
    { data_dir: d.path, logs: { stdout: false }, instance: 'web-1', ...config },
    { env: {}, fileLogs: false },
  );
  monitors.push(m);
  await m.start();
  return m;
}

describe('GET /metrics', () => {
  test('serves the Prometheus text format that a strict parser accepts', async () => {
    const m = await started();
    m.metrics.record(METRIC.httpRequest, { route: '/a', method: 'GET', status_class: '2xx' }, 12);
    const res = await m.http.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const fams = parsePrometheusText(res.body);
    assert.equal(fams.get('prodmon_http_requests_total')?.samples[0]?.value, 1);
    assert.ok(fams.has('process_resident_memory_bytes'), 'default metrics are on by default');
  });

  test('serves OpenMetrics to a scraper that prefers it (as Prometheus does)', async () => {
    const m = await started();
    m.metrics.record(METRIC.httpRequest, { route: '/a', method: 'GET', status_class: '2xx' }, 12);
    const res = await m.http.inject({
      method: 'GET',
      url: '/metrics',
      headers: { accept: 'application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3' },
    });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/openmetrics-text; version=1\.0\.0/);
    assert.match(String(res.headers.vary), /Accept/);
    assert.ok(res.body.endsWith('# EOF\n'));
    assert.match(res.body, /^prodmon_http_requests_total\{route="\/a",method="GET",status_class="2xx"\} 1$/m);
  });

  test('with metrics_require_token, a token is needed', async () => {
    const m = await started({
      auth: { tokens: [{ name: 'scraper', token: READ, role: 'read' }], metrics_require_token: true },
    });
    assert.equal((await m.http.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
    const ok = await m.http.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${READ}` },
    });
    assert.equal(ok.statusCode, 200);
  });

  test('can be turned off, and the default metrics too', async () => {
    const off = await started({ metrics: { prometheus: { enabled: false } } });
    assert.equal((await off.http.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
    const bare = await started({ metrics: { prometheus: { default_metrics: false } } });
    const fams = parsePrometheusText((await bare.http.inject({ method: 'GET', url: '/metrics' })).body);
    assert.ok(!fams.has('process_resident_memory_bytes'));
    assert.ok(fams.has('prodmon_http_request_duration_seconds'));
  });

  test('embedded in Express: the middleware records the app’s requests and /metrics shows them', async () => {
    const m = await started();
    const app = express();
    app.use(m.middleware());
    app.use(m.handler);
    app.get('/products/:id', (req, res) => {
      res.json({ id: req.params.id });
    });
    const server = createServer(app);
    const base = await listenLocal(server);
    try {
      await requestAll(base, ['/products/1', '/products/2', '/products/3']);
      const count = () =>
        [...m.metrics.recorder.allSeries(METRIC.httpRequest)].find((s) => s.labels.route === '/products/:id')
          ?.totalCount;
      await waitFor(() => count() === 3, { what: 'three requests' });
      const res = await fetch(`${base}/metrics`);
      const fams = parsePrometheusText(await res.text());
      const h = fams.get('prodmon_http_request_duration_seconds')!;
      const c = h.samples.find((s) => s.name.endsWith('_count') && s.labels.route === '/products/:id');
      assert.equal(c?.value, 3);
    } finally {
      await closeServer(server);
    }
  });
});
