/**
 * The fleet of bench/hub.ts: `instances` simulated app processes in one process, each with `routes`
 * routes (all but one shared by every instance, one of its own), recording a latency mix all along.
 * Each instance is what a real one would run: a `prodmon/agent` (its own recorder, flush and push
 * loops, pushing to the hub every 10 s in the real wire format), and a prom-client histogram of the
 * same requests served on a `/metrics` port of its own for Prometheus to scrape.
 *
 *   node --import tsx bench/hub-apps.ts '{"instances":100,"routes":200,"url":"http://127.0.0.1:9464","token":"..."}'
 *
 * Prints `PORTS <p1,p2,...>` (the /metrics ports, one per instance) once everything runs. Over IPC:
 *   { breach: k }  instance k % instances records 20 requests of 2.5 s on its own route, flushes and
 *                  pushes them at once, and answers { breach: k, route, t0 } (t0: ms since the epoch
 *                  when the hub had answered that push);
 *   'stats'        answers { stats: { sent, failures, buffered, recorded } } (rows the hub accepted).
 * Stops on SIGTERM.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Histogram, Registry } from 'prom-client';
import { type Agent, createAgent } from '../src/agent.js';
import { METRIC } from '../src/metrics/names.js';
import type { Series } from '../src/metrics/series.js';
import { latency, random } from './latency-mix.js';

interface Options {
  instances: number;
  routes: number;
  url: string;
  token: string;
  /** Requests per second of each series (default 1). */
  rate?: number;
}

const o = JSON.parse(process.argv[2] ?? '{}') as Options;
const RATE = o.rate ?? 1;
const TICK_MS = 100;
/** prodmon's own histogram bounds (ms), as its `/metrics` exports them. */
const BOUNDS_S = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000].map((ms) => ms / 1000);

interface Route {
  labels: { route: string; method: string; status_class: string };
  median: number;
  series: Series;
  observe: (seconds: number) => void;
  /** Requests owed to the next tick (a fraction carries over). */
  due: number;
}

interface Instance {
  name: string;
  agent: Agent;
  server: Server;
  routes: Route[];
  own: Route;
}

const instances: Instance[] = [];
for (let i = 0; i < o.instances; i++) {
  const name = `app-${i}`;
  const agent = createAgent({
    instance: name,
    push: { url: o.url, token: o.token, interval: '10s' },
    flush_interval: '10s',
    sample_interval: '10s',
  });
  const registry = new Registry();
  const histogram = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests in seconds',
    labelNames: ['route', 'method', 'status_class'],
    buckets: BOUNDS_S,
    registers: [registry],
  });
  const routes: Route[] = [];
  for (let r = 0; r < o.routes; r++) {
    const path = r === o.routes - 1 ? `/api/own-${i}` : `/api/r${r}`;
    const labels = { route: path, method: r % 5 === 4 ? 'POST' : 'GET', status_class: '2xx' };
    const child = histogram.labels(labels);
    routes.push({
      labels,
      median: 5 + ((r * 37) % 200),
      series: agent.recorder.series(METRIC.httpRequest, labels),
      observe: (s) => child.observe(s),
      due: random(),
    });
  }
  const server = createServer(async (_req, res) => {
    res.setHeader('content-type', registry.contentType);
    res.end(await registry.metrics());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  agent.start();
  instances.push({ name, agent, server, routes, own: routes[routes.length - 1]! });
}

let recorded = 0;
function record(inst: Instance, route: Route, ms: number): void {
  inst.agent.recorder.observe(route.series, ms);
  route.observe(ms / 1000);
  recorded++;
}

// Every tick, each series gets its share of RATE requests per second.
const perTick = (RATE * TICK_MS) / 1000;
const timer = setInterval(() => {
  for (const inst of instances) {
    for (const route of inst.routes) {
      route.due += perTick;
      while (route.due >= 1) {
        route.due -= 1;
        record(inst, route, latency(route.median));
      }
    }
  }
}, TICK_MS);

process.on('message', async (m: unknown) => {
  if (m === 'stats') {
    let sent = 0;
    let failures = 0;
    let buffered = 0;
    for (const inst of instances) {
      sent += inst.agent.pusher?.sent ?? 0;
      failures += inst.agent.pusher?.failures ?? 0;
      buffered += inst.agent.pusher?.buffered ?? 0;
    }
    process.send?.({ stats: { sent, failures, buffered, recorded } });
    return;
  }
  const k = (m as { breach?: number }).breach;
  if (k === undefined) return;
  const inst = instances[k % instances.length]!;
  for (let j = 0; j < 20; j++) record(inst, inst.own, 2500);
  // A flush or push already under way may have started before these requests: then once more.
  await inst.agent.flush();
  await inst.agent.flush();
  const pusher = inst.agent.pusher!;
  await pusher.send().catch(() => {});
  while (pusher.buffered > 0) await pusher.send().catch(() => {});
  process.send?.({ breach: k, route: inst.own.labels.route, t0: performance.timeOrigin + performance.now() });
});

process.stdout.write(`PORTS ${instances.map((i) => (i.server.address() as AddressInfo).port).join(',')}\n`);

process.once('SIGTERM', async () => {
  clearInterval(timer);
  for (const inst of instances) {
    inst.server.close();
    await inst.agent.stop();
  }
  process.exit(0);
});
