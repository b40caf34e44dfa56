/**
 * The app of bench/breach-to-notification.ts: a plain node:http app with a fast route (`/api/items`)
 * and `ROUTES` trial routes (`/api/t0`, `/api/t1`, ...) that answer after `?delay=<ms>`. Instrumented
 * by one of:
 *   prodmon <config JSON>   an embedded monitor, its handler in front of the app (`monitor.handler`,
 *                           the README's node:http embedding), with that config;
 *   agent <options JSON>    a `prodmon/agent` (`agent.wrap(app)`) pushing to a standalone prodmon;
 *   prom                    a prom-client histogram by route, served on `/metrics` for Prometheus.
 * Prints `PORT <n>`; stops on SIGTERM.
 *
 *   node --import tsx bench/breach-app.ts prodmon '{"data_dir":"/tmp/x"}' 30
 *   node --import tsx bench/breach-app.ts agent '{"push":{"url":"http://127.0.0.1:9464","token":"t"}}' 30
 *   node --import tsx bench/breach-app.ts prom '' 30
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Histogram, Registry } from 'prom-client';
import { createAgent } from '../src/agent.js';
import { createMonitor } from '../src/index.js';

const [mode, configJson, routesArg] = process.argv.slice(2);
const ROUTES = Number(routesArg ?? 30);
const routes = ['/api/items', ...Array.from({ length: ROUTES }, (_, i) => `/api/t${i}`)];
const known = new Set(routes);

/** prom-client's default buckets plus 2 s, the threshold (a quantile is only exact at a bucket bound). */
export const PROM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10];

/** The app itself: its routes answer after `?delay=<ms>` (at most 10 s). */
function app(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://app');
  if (!known.has(url.pathname)) {
    res.statusCode = 404;
    res.end();
    return;
  }
  const delay = Math.min(10_000, Number(url.searchParams.get('delay') ?? 0));
  if (delay > 0) setTimeout(() => res.end('ok'), delay);
  else res.end('ok');
}

let handler: (req: IncomingMessage, res: ServerResponse) => void;
let stopInstrumentation = async () => {};

if (mode === 'prodmon') {
  const monitor = createMonitor(JSON.parse(configJson!), { env: {}, fileLogs: false });
  await monitor.start();
  handler = (req, res) => monitor.handler(req, res, () => app(req, res));
  stopInstrumentation = () => monitor.stop({ drainDelayMs: 0 });
} else if (mode === 'agent') {
  const agent = createAgent(JSON.parse(configJson!));
  agent.start();
  handler = agent.wrap(app);
  stopInstrumentation = () => agent.stop();
} else if (mode === 'prom') {
  // The usual prom-client instrumentation: one histogram by route, observed when the response finishes.
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
  handler = (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/metrics') {
      registry.metrics().then((text) => {
        res.setHeader('content-type', registry.contentType);
        res.end(text);
      });
      return;
    }
    const end = histogram.startTimer();
    res.on('finish', () => {
      if (known.has(path)) end({ method: req.method, route: path, status_code: String(res.statusCode) });
    });
    app(req, res);
  };
} else {
  throw new Error('usage: breach-app.ts prodmon|agent|prom <config JSON> <routes>');
}

const server = createServer(handler);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
process.stdout.write(`PORT ${(server.address() as AddressInfo).port}\n`);

process.once('SIGTERM', async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await stopInstrumentation();
  process.exit(0);
});
