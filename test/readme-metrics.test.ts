/**
 * Every metric the /metrics table of docs/metrics.md documents has samples on a real monitor's `GET /metrics`
 * (after start, one request, one query, one firing alert, one system sample and one GC, with a push
 * target and a notification channel configured), and every prodmon_ family it exports is documented.
 * The names are read from that table, so the table and this test cannot drift apart.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { after, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { createApp } from '../src/app.js';
import { DEFAULT_THRESHOLDS } from '../src/config/sections/alerting.js';
import { closeServer, listenLocal } from './support/http-load.js';
import { parsePrometheusText } from './support/prom-parser.js';
import { startHttpReceiver } from './support/receivers.js';
import { tempDir } from './support/services.js';
import { waitFor } from './support/wait.js';

const metricsDoc = readFileSync(new URL('../docs/metrics.md', import.meta.url), 'utf8');

/** The metric names of the table under "Prometheus: `GET /metrics`" (its first column). */
function documentedMetrics(text: string): string[] {
  const start = text.indexOf('## Prometheus: `GET /metrics`');
  assert.ok(start >= 0, 'docs/metrics.md has its Prometheus section');
  const end = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  const rows = section.split('\n').filter((l) => /^\|\s*`prodmon_/.test(l));
  return rows.flatMap((row) => [...row.split('|')[1]!.matchAll(/`(prodmon_[a-z0-9_]+)`/g)].map((m) => m[1]!));
}

const dir = tempDir();
after(() => dir.cleanup());

test('every metric of the /metrics table has samples, and every prodmon_ family is in it', async () => {
  const documented = documentedMetrics(metricsDoc);
  assert.ok(documented.length >= 25, `names read from the docs table: ${documented.join(', ')}`);

  const rx = await startHttpReceiver();
  after(() => rx.close()); // also when the monitor fails to start
  rx.answer((r) => (r.path === '/hook' ? { status: 503 } : { status: 200, body: '{}' })); // the channel keeps failing
  const token = 'docs-admin-token-0123456789';
  const monitor = createApp(
    {
      data_dir: dir.path,
      logs: { stdout: false },
      instance: 'docs',
      auth: { tokens: [{ name: 'ops', token, role: 'admin' }] },
      metrics: { sample_interval: '1s', push: { url: rx.url, token: 'push-token-0123456789' } },
      notifications: { channels: [{ name: 'hook', kind: 'webhook', url: `${rx.url}/hook` }] },
      alerting: {
        // only the test's rule: a busy machine's CPU or disk would raise alerts of their own
        thresholds: Object.fromEntries(Object.keys(DEFAULT_THRESHOLDS).map((r) => [r, { enabled: false }])),
        health_checks: { enabled: false },
        rules: [
          {
            name: 'any_request',
            metric: 'http_request_duration_ms',
            aggregation: 'count',
            critical: 0.5, // fires (critical: at once) on the first request
            message: 'a request',
          },
        ],
      },
    },
    { env: {} },
  );
  await monitor.start();
  const server = createServer((req, res) => monitor.handler(req, res, () => res.end('app')));
  const url = await listenLocal(server);
  try {
    assert.equal((await fetch(`${url}/orders/1`)).status, 200); // one request
    await monitor.timeQuery('shop', async () => {}); // one query
    await waitFor(
      () => monitor.alerting.openAlerts().some((a) => a.rule === 'any_request' && a.status === 'firing'),
      { timeout: 10_000, what: 'the alert firing' },
    );
    await waitFor(() => rx.requests.some((r) => r.path === '/hook'), {
      timeout: 10_000,
      what: 'a delivery attempt',
    });
    await waitFor(() => monitor.metrics.sampler.last !== null, { timeout: 10_000, what: 'a system sample' });
    // one GC pause: allocate until the collector has run (bounded)
    const gc = () => [...monitor.metrics.recorder.allSeries('gc_pause_ms')].some((s) => s.totalCount > 0);
    for (let i = 0; i < 2000 && !gc(); i++) {
      let junk: unknown[] = [];
      for (let k = 0; k < 10_000; k++) junk.push({ k });
      junk = [];
      await tick();
    }
    assert.ok(gc(), 'a GC pause observed');

    const res = await fetch(`${url}/metrics`);
    assert.equal(res.status, 200);
    const families = parsePrometheusText(await res.text());
    const empty = documented.filter((name) => (families.get(name)?.samples.length ?? 0) === 0);
    assert.deepEqual(empty, [], 'documented metrics without a sample');
    const undocumented = [...families.keys()].filter(
      (n) => n.startsWith('prodmon_') && !documented.includes(n),
    );
    assert.deepEqual(undocumented, [], 'exported prodmon_ metrics missing from the table in docs/metrics.md');

    // the providers report the store's truth: the firing alert, the notification waiting for its retry
    const value = (name: string, labels: Record<string, string> = {}) =>
      families.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        ?.value;
    assert.equal(value('prodmon_alerts_active', { severity: 'critical' }), 1);
    assert.equal(value('prodmon_alerts_active', { severity: 'low' }), 0);
    assert.equal(value('prodmon_outbox_backlog'), 1);
  } finally {
    await closeServer(server);
    await monitor.stop({ drainDelayMs: 0 });
  }
});
