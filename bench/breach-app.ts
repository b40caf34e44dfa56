/**
 * The app of bench/breach-to-notification.ts: an Express app with a fast route (`/api/items`) and
 * `ROUTES` trial routes (`/api/t0`, `/api/t1`, ...) that answer after `?delay=<ms>`. Instrumented either
 * by embedded prodmon (`prodmon <config JSON>`) or by a prom-client histogram served on `/metrics`
 * (`prom`), as an app scraped by Prometheus would be. Prints `PORT <n>`; stops on SIGTERM.
 *
 *   node --import tsx bench/breach-app.ts prodmon '{"data_dir":"/tmp/x"}' 30
 *   node --import tsx bench/breach-app.ts prom '' 30
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import { Histogram, Registry } from 'prom-client';
import { createMonitor } from '../src/index.js';

const [mode, configJson, routesArg] = process.argv.slice(2);
const ROUTES = Number(routesArg ?? 30);
const routes = ['/api/items', ...Array.from({ length: ROUTES }, (_, i) => `/api/t${i}`)];

/** prom-client's default buckets plus 2 s, the threshold (a quantile is only exact at a bucket bound). */
export const PROM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10];

const app = express();
let stopInstrumentation = async () => {};

if (mode === 'prodmon') {
  const monitor = createMonitor(JSON.parse(configJson!), { env: {}, fileLogs: false });
  await monitor.start();
  app.use(monitor.middleware());
  stopInstrumentation = () => monitor.stop({ drainDelayMs: 0 });
} else if (mode === 'prom') {
  // The usual prom-client instrumentation (as express-prom-bundle does): one histogram by route.
  const registry = new Registry();
  const histogram = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests in seconds',
    labelNames: ['method', 'route', 'status_code'],
    buckets: PROM_BUCKETS,
    registers: [registry],
  });
  // Every route's series exists from the first scrape (rate() needs a sample before the first slow one).
  for (const route of routes) histogram.zero({ method: 'GET', route, status_code: '200' });
  const track: RequestHandler = (req, res, next) => {
    const end = histogram.startTimer();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      if (route) end({ method: req.method, route, status_code: String(res.statusCode) });
    });
    next();
  };
  app.use(track);
  app.get('/metrics', async (_req, res) => {
    res.set('content-type', registry.contentType).end(await registry.metrics());
  });
} else {
  throw new Error(`usage: breach-app.ts prodmon|prom <config JSON> <routes>`);
}

for (const route of routes) {
  app.get(route, (req, res) => {
    const delay = Math.min(10_000, Number(req.query.delay ?? 0));
    if (delay > 0) setTimeout(() => res.end('ok'), delay);
    else res.end('ok');
  });
}

const server = createServer(app);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
process.stdout.write(`PORT ${(server.address() as AddressInfo).port}\n`);

process.once('SIGTERM', async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await stopInstrumentation();
  process.exit(0);
});
