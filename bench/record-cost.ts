/**
 * Cost of recording one request, in process: prodmon's request path (what runs when a response closes:
 * route, labels, series lookup, minute bucket, DDSketch, Prometheus buckets) against prom-client's
 * `histogram.observe(labels, seconds)`, over 50 routes x 2 methods x 2 status classes.
 *
 *   node --import tsx bench/record-cost.ts
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Histogram, Registry } from 'prom-client';
import { parseConfig } from '../src/config/load.js';
import { systemClock } from '../src/core/clock.js';
import { RequestTracker } from '../src/instrument/track.js';
import { MetricsEngine } from '../src/metrics/engine.js';
import { METRIC } from '../src/metrics/names.js';
import { pct, table } from './support.js';

const N = Number(process.env.BENCH_N ?? 2_000_000);
const ROUTES = Array.from({ length: 50 }, (_, i) => `/api/v1/resource${i}/:id`);
const METHODS = ['GET', 'POST'];
const STATUSES = [200, 500];

// Pre-drawn inputs, so both sides pay the same for them: log-normal latencies around 20 ms.
const M = 1 << 16;
const durations = Float64Array.from({ length: M }, () =>
  Math.exp(
    Math.log(20) + 0.8 * Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random()),
  ),
);
const pick = Uint32Array.from({ length: M }, () => Math.floor(Math.random() * ROUTES.length * 4));

function prodmon(): () => number {
  const config = parseConfig({ instance: 'bench' }, { env: {}, dataDir: '/tmp/prodmon-bench' });
  const engine = new MetricsEngine({ config, clock: systemClock });
  let t = 0;
  let dur = 0;
  // The tracker's real close path, with the request/response fields it reads.
  const tracker = new RequestTracker(engine.recorder, { now: () => t });
  tracker.wallOffset = Date.now(); // as the engine sets it on the system clock
  const reqs = ROUTES.flatMap((route) =>
    METHODS.flatMap((method) =>
      STATUSES.map((statusCode) => ({
        req: { method } as IncomingMessage,
        res: { writableFinished: true, statusCode } as ServerResponse,
        route,
      })),
    ),
  );
  return () => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      const k = i & (M - 1);
      const r = reqs[pick[k]!]!;
      dur = durations[k]!;
      t = 0;
      tracker.finish(
        { tracker, req: r.req, res: r.res, t0: -dur, route: r.route, thrown: false },
        r.res,
        false,
      );
    }
    const ns = Number(process.hrtime.bigint() - start) / N;
    if ([...engine.recorder.allSeries(METRIC.httpRequest)].length !== 200)
      throw new Error('unexpected series count');
    engine.recorder.close();
    return ns;
  };
}

function promClient(): () => number {
  const h = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'request duration',
    labelNames: ['route', 'method', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [new Registry()],
  });
  const labels = ROUTES.flatMap((route) =>
    METHODS.flatMap((method) => STATUSES.map((status_code) => ({ route, method, status_code }))),
  );
  return () => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      const k = i & (M - 1);
      const l = labels[pick[k]!]!;
      // what a middleware does: fresh labels object per request, seconds
      h.observe({ route: l.route, method: l.method, status_code: l.status_code }, durations[k]! / 1000);
    }
    return Number(process.hrtime.bigint() - start) / N;
  };
}

// Warm both up (JIT), then measure each twice, alternating.
promClient()();
prodmon()();
const results = { prodmon: [] as number[], promclient: [] as number[] };
for (let round = 0; round < 2; round++) {
  results.prodmon.push(prodmon()());
  results.promclient.push(promClient()());
}
const best = (xs: number[]) => Math.min(...xs);
const p = best(results.prodmon);
const q = best(results.promclient);
process.stdout.write(`record cost: ${N.toLocaleString('en')} recorded requests per run, best of 2 runs\n\n`);
table(
  ['recorder', 'ns per request', 'relative to prom-client'],
  [
    ['prodmon (route, labels, minute rollup + DDSketch + Prometheus buckets)', p.toFixed(0), pct(p / q)],
    ['prom-client histogram.observe(labels, v)', q.toFixed(0), '100.0 %'],
  ],
);
