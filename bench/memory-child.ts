/**
 * One side of bench/memory.ts, run as a child process with --expose-gc:
 * `node --expose-gc --import tsx bench/memory-child.ts <bare|recorder|prodmon|promclient>`.
 * Builds an Express app with 1,000 routes, then (unless bare) records 1,000,000 requests over those
 * routes in process — prodmon through its request tracker's close path (the code that runs when a
 * response closes), prom-client through histogram.observe — and prints memory figures as JSON.
 * `recorder` is prodmon's metrics engine alone (no store, no scrape); `prodmon` is the whole embedded
 * setup: SQLite store with its flush and sampling loops, a flush and a /metrics scrape at the end;
 * `agent` is prodmon/agent with its loops, a flush and one push to the URL given as the next argument.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import type { RequestTracker } from '../src/instrument/track.js';

const variant = process.argv[2] ?? 'bare';
const ROUTES = 1000;
const REQUESTS = 1_000_000;
const gc = (globalThis as { gc?: () => void }).gc!;

function settle(): { rss: number; heap: number } {
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

/** Records a request of `route` taking `ms` through the tracker's close path (what a finished response runs). */
function closePath(tracker: RequestTracker): (route: string, ms: number) => void {
  const req = { method: 'GET' } as IncomingMessage;
  const res = { writableFinished: true, statusCode: 200 } as ServerResponse;
  return (route, ms) =>
    tracker.finish({ tracker, req, res, t0: tracker.now() - ms, route, thrown: false }, res, false);
}

async function main(): Promise<void> {
  const app = express();
  const templates = Array.from({ length: ROUTES }, (_, i) => `/api/resource${i}/:id`);
  for (const t of templates) app.get(t, (_req, res) => res.send('ok'));
  // latencies: log-normal around 20 ms, drawn up front so every variant pays the same
  const M = 1 << 16;
  const durations = Float64Array.from({ length: M }, () =>
    Math.exp(
      Math.log(20) +
        0.8 * Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random()),
    ),
  );
  let record: (route: string, ms: number) => void = () => {};
  let after: () => Promise<void> = async () => {};

  if (variant === 'prodmon' || variant === 'recorder') {
    const full = variant === 'prodmon';
    const [{ parseConfig }, { systemClock }, { MetricsEngine }] = await Promise.all([
      import('../src/config/load.js'),
      import('../src/core/clock.js'),
      import('../src/metrics/engine.js'),
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'prodmon-mem-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    const engine = new MetricsEngine({
      config: parseConfig({ instance: 'mem' }, { env: {}, dataDir: dir }),
      clock: systemClock,
    });
    if (full) {
      const { openStore } = await import('../src/store/index.js');
      const store = await openStore({ driver: 'sqlite', path: join(dir, 'prodmon.db') });
      await store.migrate(Date.now());
      engine.attachStore(store);
      engine.start();
    }
    record = closePath(engine.requests);
    after = async () => {
      if (!full) return;
      await engine.flush();
      await engine.prometheus.metrics(); // a scrape, as a Prometheus server would do
    };
  } else if (variant === 'agent') {
    // prodmon/agent: the instrumentation alone, pushing to the standalone prodmon at argv[3] (the parent)
    const { createAgent } = await import('../src/agent.js');
    const agent = createAgent({ instance: 'mem', push: { url: process.argv[3]!, token: 'bench' } });
    agent.start();
    record = closePath(agent.requests);
    after = async () => {
      await agent.flush();
      await agent.pusher!.send(); // one push round, as the loop would do
    };
  } else if (variant === 'promclient') {
    const { Histogram, Registry } = await import('prom-client');
    const registry = new Registry();
    const h = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'request duration',
      labelNames: ['route', 'method', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    record = (route, ms) => h.observe({ route, method: 'GET', status_code: 200 }, ms / 1000);
    after = async () => {
      await registry.metrics();
    };
  }

  // Every variant allocates what a request of the app would (a small object and a string), so the
  // young generation grows alike in all of them and the difference is what recording keeps.
  // (kept in a ring of in-flight requests, so the allocation cannot be optimised away)
  const ring: unknown[] = new Array(1024);
  const churn = (i: number, ms: number) => {
    const r = { id: `req-${i}`, ms, headers: { accept: '*/*' } };
    ring[i & 1023] = r;
    return r;
  };
  // Long enough that V8's young generation has grown to its full size in every variant before the first
  // figure (a fast allocation loop grows it by ~16 MB, which would otherwise land in one variant only).
  for (let i = 0; i < 3_000_000; i++) churn(i, 1);
  const before = settle();
  const t0 = performance.now();
  let sink = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const ms = durations[i & (M - 1)]!;
    sink += churn(i, ms).ms;
    record(templates[i % ROUTES]!, ms);
  }
  const elapsed = performance.now() - t0;
  await after();
  const end = settle();
  process.stdout.write(
    `${JSON.stringify({ variant, before, after: end, elapsedMs: elapsed, sink: sink > 0 })}\n`,
  );
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
