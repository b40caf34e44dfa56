/**
 * A started monitor whose `GET /metrics` has a sample in every family: one app request (and more on
 * demand, some failing), one timed query, one firing alert, a notification waiting in the outbox (its
 * channel keeps failing), a system sample, a GC pause, the health checks' first run and a push target.
 * Shared by the tests of the metric table, of promtool and of a real Prometheus scraping prodmon.
 */
import { createServer } from 'node:http';
import { setImmediate as tick } from 'node:timers/promises';
import { type App, createApp } from '../../src/app.js';
import { DEFAULT_THRESHOLDS } from '../../src/config/sections/alerting.js';
import { closeServer, listenLocal } from './http-load.js';
import { startHttpReceiver } from './receivers.js';
import { tempDir } from './services.js';
import { waitFor } from './wait.js';

/** A monitor embedded in a plain HTTP app on 127.0.0.1. */
export interface TrafficMonitor {
  monitor: App;
  /** The app's base URL (`/metrics` is served there too). */
  url: string;
  /** `host:port` of the app, as a scrape target. */
  target: string;
  /** Sends `n` app requests (every fourth answered 500) and times `n` queries. */
  traffic(n: number): Promise<void>;
  /** Stops the monitor, the app, the receiver and removes the data dir. */
  close(): Promise<void>;
}

/** Starts the monitor and waits (with deadlines) until every family of `/metrics` has a sample. */
export async function startTrafficMonitor(): Promise<TrafficMonitor> {
  const dir = tempDir('prodmon-prom-');
  const rx = await startHttpReceiver();
  rx.answer((r) => (r.path === '/hook' ? { status: 503 } : { status: 200, body: '{}' })); // the channel keeps failing
  const monitor = createApp(
    {
      data_dir: dir.path,
      logs: { stdout: false },
      instance: 'prom',
      metrics: { sample_interval: '1s', push: { url: rx.url, token: 'push-token-0123456789' } },
      notifications: { channels: [{ name: 'hook', kind: 'webhook', url: `${rx.url}/hook` }] },
      alerting: {
        // only the harness's rule: a busy machine's CPU or disk would raise alerts of their own
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
    { env: {}, fileLogs: false },
  );
  const server = createServer((req, res) =>
    monitor.handler(req, res, () => {
      res.statusCode = req.url?.startsWith('/fail') ? 500 : 200;
      res.end('app');
    }),
  );
  let started = false;
  const close = async () => {
    if (server.listening) await closeServer(server);
    if (started) await monitor.stop({ drainDelayMs: 0 });
    await rx.close();
    dir.cleanup();
  };
  try {
    await monitor.start();
    started = true;
    const url = await listenLocal(server);
    const traffic = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const res = await fetch(`${url}/${i % 4 === 3 ? 'fail' : 'orders'}/${i}`);
        await res.arrayBuffer();
        await monitor.timeQuery('shop', async () => {});
      }
    };
    await traffic(4);
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
    if (!gc()) throw new Error('no GC pause observed after 2,000 rounds of allocation');
    return { monitor, url, target: url.slice('http://'.length), traffic, close };
  } catch (err) {
    await close();
    throw err;
  }
}
