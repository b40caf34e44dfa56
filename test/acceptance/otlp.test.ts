/**
 * OpenTelemetry in: an Express app instrumented with the OpenTelemetry SDK (HTTP and Express
 * instrumentation, a MeterProvider with a PeriodicExportingMetricReader) exports to a standalone
 * prodmon over OTLP/HTTP with a push token, first as protobuf (exporter-metrics-otlp-proto), then as
 * JSON (exporter-metrics-otlp-http). Its routes appear in `/production/api/performance` under the
 * instance `service.name/service.instance.id`, and a latency rule on them fires to a webhook receiver.
 */
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { type Context, type ContextManager, context, ROOT_CONTEXT } from '@opentelemetry/api';
import { OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { type App, createApp } from '../../src/app.js';
import { type HttpReceiver, startHttpReceiver } from '../support/receivers.js';
import { tempDir } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const PUSH = 'otel-push-token-0123456789abcdef';
const READ = 'otel-read-token-0123456789abcdef';
/** Each wait is bounded: an export every 500 ms, the rule evaluated as rows arrive. */
const WITHIN_MS = 20_000;

/** The context manager the OpenTelemetry SDK would register (AsyncLocalStorage), for http.route. */
class AlsContextManager implements ContextManager {
  readonly #als = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.#als.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.#als.run(ctx, () => fn.call(thisArg, ...args));
  }
  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target; // (emitters are not patched here)
    const als = this.#als;
    return function (this: unknown, ...args: unknown[]) {
      return als.run(ctx, () => (target as (...a: unknown[]) => unknown).apply(this, args));
    } as T;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#als.disable();
    return this;
  }
}

interface Hook {
  type: string;
  data: { alert: { rule: string; labels: Record<string, string> } };
}

interface Performance {
  summary: {
    routes: { labels: Record<string, string>; figures: { requests?: number; p95?: number | null } }[];
    instances: string[];
  };
}

describe('OpenTelemetry SDK -> POST /v1/metrics', () => {
  const dir = tempDir();
  let hooks: HttpReceiver;
  let monitor: App;
  let base = '';
  let app: Server;
  let appUrl = '';
  const http = new HttpInstrumentation();
  const express = new ExpressInstrumentation();
  const providers: MeterProvider[] = [];

  before(async () => {
    context.setGlobalContextManager(new AlsContextManager());
    hooks = await startHttpReceiver();
    monitor = createApp(
      {
        instance: 'monitor',
        data_dir: dir.path,
        logs: { stdout: false },
        health: { builtin_checks: false },
        auth: {
          tokens: [
            { name: 'otel', token: PUSH, role: 'push' },
            { name: 'viewer', token: READ, role: 'read' },
          ],
        },
        alerting: {
          rules: [
            {
              name: 'otel_latency',
              metric: 'http_request_duration_ms',
              group_by: ['route'],
              aggregation: 'p95',
              window: '1m',
              warning: 100,
              critical: 150,
              message: 'p95 of {{labels.route}} is {{value}} ms',
            },
          ],
        },
        notifications: {
          channels: [{ name: 'hook', kind: 'webhook', url: `${hooks.url}/hook` }],
          grouping: { group_by: ['route'] },
        },
      },
      { env: {}, fileLogs: false },
    );
    await monitor.start();
    base = await monitor.listen('127.0.0.1', 0);

    // Instrumented as the SDK does it: the instrumentations enabled before express is loaded.
    const require = createRequire(import.meta.url);
    const expressModule = require('express') as typeof import('express');
    const server = expressModule();
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    server.get('/fast/:id', (_req, res) => {
      res.json({ ok: true });
    });
    server.get('/slow/:id', async (_req, res) => {
      await wait(300);
      res.json({ ok: true });
    });
    server.get('/orders/:id', async (_req, res) => {
      await wait(300);
      res.status(503).json({ ok: false });
    });
    const nodeHttp = require('node:http') as typeof import('node:http');
    app = nodeHttp.createServer(server);
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    appUrl = `http://127.0.0.1:${(app.address() as { port: number }).port}`;
  });

  after(async () => {
    for (const p of providers) await p.shutdown().catch(() => {});
    http.disable();
    express.disable();
    await new Promise<void>((r) => (app ? app.close(() => r()) : r()));
    await monitor?.stop({ drainDelayMs: 0 });
    await hooks?.close();
    context.disable();
    dir.cleanup();
  });

  /** A MeterProvider exporting every 500 ms, the HTTP instrumentation recording into it. */
  function useExporter(instanceId: string, exporter: PushMetricExporter): void {
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': 'shop', 'service.instance.id': instanceId }),
      readers: [
        new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 500, exportTimeoutMillis: 500 }),
      ],
    });
    providers.push(provider);
    http.setMeterProvider(provider);
  }

  async function traffic(paths: string[]): Promise<void> {
    for (const p of paths) {
      const res = await fetch(`${appUrl}${p}`);
      await res.arrayBuffer();
    }
  }

  async function performance(range: string): Promise<Performance> {
    const res = await fetch(`${base}/production/api/performance?range=${range}`, {
      headers: { authorization: `Bearer ${READ}` },
    });
    assert.equal(res.status, 200);
    return (await res.json()) as Performance;
  }

  const firing = (route: string) =>
    hooks.requests.find((r) => {
      const h = r.json as Hook | undefined;
      return (
        h?.type === 'alert.firing' &&
        h.data.alert.rule === 'otel_latency' &&
        h.data.alert.labels.route === route
      );
    });

  /**
   * Polls the performance summary of `range` until `route` of `instance` is in it (bounded by
   * WITHIN_MS; a summary is reused for 10 s, so each test reads a range of its own once the alert
   * says the rows are stored).
   */
  async function waitForRoute(route: string, instance: string, range: string): Promise<Performance> {
    return waitFor(
      async () => {
        const p = await performance(range);
        const there = p.summary.routes.some((r) => r.labels.route === route);
        return there && p.summary.instances.includes(instance) ? p : undefined;
      },
      { timeout: WITHIN_MS, interval: 100, what: `${route} of ${instance} in /production/api/performance` },
    );
  }

  test('protobuf: routes appear under service.name/service.instance.id and a latency rule fires', async (t) => {
    // warm (the first requests of a process are slow), before anything is recorded
    await traffic(['/fast/w', '/fast/w', '/slow/w']);
    const t0 = Date.now();
    useExporter(
      'proto-1',
      new ProtoExporter({ url: `${base}/v1/metrics`, headers: { authorization: `Bearer ${PUSH}` } }),
    );
    await traffic([
      ...Array.from({ length: 40 }, (_, i) => `/fast/${i}`),
      ...Array.from({ length: 5 }, (_, i) => `/slow/${i}`),
    ]);
    await waitFor(() => firing('/slow/:id') !== undefined, {
      timeout: WITHIN_MS,
      what: 'the latency alert of /slow/:id at the webhook',
    });
    t.diagnostic(`alert after ${Date.now() - t0} ms`);
    const perf = await waitForRoute('/slow/:id', 'shop/proto-1', '15m');
    t.diagnostic(`route seen after ${Date.now() - t0} ms`);
    const fast = perf.summary.routes.find((r) => r.labels.route === '/fast/:id');
    assert.ok(fast, 'the fast route is there too');
    assert.equal(firing('/fast/:id'), undefined, 'the fast route does not fire');
  });

  test('JSON: a second SDK exporter with OTLP JSON; 5xx counted as errors', async (t) => {
    const t0 = Date.now();
    useExporter(
      'json-1',
      new JsonExporter({ url: `${base}/v1/metrics`, headers: { authorization: `Bearer ${PUSH}` } }),
    );
    await traffic(Array.from({ length: 4 }, (_, i) => `/orders/${i}`));
    await waitFor(() => firing('/orders/:id') !== undefined, {
      timeout: WITHIN_MS,
      what: 'the latency alert of /orders/:id',
    });
    t.diagnostic(`alert after ${Date.now() - t0} ms`);
    await waitForRoute('/orders/:id', 'shop/json-1', '1h');
    t.diagnostic(`route seen after ${Date.now() - t0} ms`);
    // the last requests may come with the next export
    const orders = await waitFor(
      async () => {
        const rows = await monitor.store.rollups.query({
          metrics: ['http_request_duration_ms'],
          resolution: 60_000,
          since: 0,
          until: Date.now() + 60_000,
        });
        const mine = rows.filter((r) => r.instance === 'shop/json-1' && r.labels.includes('/orders/:id'));
        return mine.reduce((n, r) => n + r.count, 0) === 4 ? mine : undefined;
      },
      { timeout: WITHIN_MS, what: 'the 4 requests of /orders/:id stored' },
    );
    assert.equal(
      orders.reduce((n, r) => n + r.errors, 0),
      4,
    );
    assert.ok(orders.every((r) => r.labels.includes('"status_class":"5xx"')));
  });

  test('a push token is needed, checked before the body is read', async () => {
    const res = await fetch(`${base}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${READ}` },
      body: Buffer.alloc(10),
    });
    assert.equal(res.status, 403);
    const none = await fetch(`${base}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(none.status, 401);
  });
});
