/**
 * The hello-world apps of the overhead benchmarks, for node:http, Express and Fastify, each bare, with
 * prodmon's adapter, or with the usual prom-client histogram middleware (the peer). `prodmon` runs the
 * real metrics engine: SQLite store, flush and sampling loops, Node default metrics (the loops can be
 * left out, for counting instructions).
 * bench/hello-server.ts serves one over HTTP (bench/overhead.ts); bench/overhead-driver.ts drives one
 * in process (bench/overhead-instructions.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import Fastify from 'fastify';
import { Histogram, Registry } from 'prom-client';
import { parseConfig } from '../src/config/load.js';
import { systemClock } from '../src/core/clock.js';
import { createMonitor, type Monitor } from '../src/index.js';
import { MetricsEngine } from '../src/metrics/engine.js';
import { openStore } from '../src/store/index.js';

export const FRAMEWORKS = ['http', 'express', 'fastify'] as const;
/**
 * Also served: `express-handler`, the Express app with a whole monitor's `monitor.handler` mounted
 * first in its `prodmon` variant (the README's first example: the handler records what it passes on)
 * instead of the engine's `middleware()`. With `loops: false` the monitor is not started, so every
 * request is passed on without the check of prodmon's own paths.
 */
export const EXPRESS_HANDLER = 'express-handler';
export const VARIANTS = ['bare', 'prodmon', 'promclient'] as const;
/** What every app answers to `GET /hello/:id`. */
export const BODY = 'hello world';

async function prodmon(loops: boolean): Promise<MetricsEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'prodmon-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const config = parseConfig({ instance: 'bench' }, { env: {}, dataDir: dir });
  const engine = new MetricsEngine({ config, clock: systemClock });
  const store = await openStore({ driver: 'sqlite', path: join(dir, 'prodmon.db') });
  await store.migrate(Date.now());
  engine.attachStore(store);
  if (loops) engine.start();
  return engine;
}

async function monitorOf(loops: boolean): Promise<Monitor> {
  const dir = mkdtempSync(join(tmpdir(), 'prodmon-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const monitor = createMonitor(
    { instance: 'bench', data_dir: dir, logs: { stdout: false } },
    { env: {}, fileLogs: false },
  );
  if (loops) await monitor.start();
  return monitor;
}

function promHistogram(): Histogram<'route' | 'method' | 'status_code'> {
  return new Histogram({
    name: 'http_request_duration_seconds',
    help: 'request duration',
    labelNames: ['route', 'method', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [new Registry()],
  });
}

/** The peer middleware: time on finish, observe with labels (what express-prom-bundle and the like do). */
function promTimer(h: ReturnType<typeof promHistogram>, route: (req: IncomingMessage) => string) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const end = h.startTimer();
    res.once('finish', () =>
      end({ route: route(req), method: req.method ?? 'GET', status_code: res.statusCode }),
    );
  };
}

/** The route template of the node:http app (it has no router): given to prodmon's `wrap` and to the peer. */
const ROUTE = '/hello/:id';

/**
 * The app of `framework` in `variant`, as a node:http server not yet listening. `loops: false` leaves
 * prodmon's engine unstarted (store attached; no flush, sampling or event-loop-delay timers).
 * `guess: true` lets prodmon's node:http `wrap` guess the route from the URL (its default) instead of
 * being given it as the peer is.
 */
export async function helloServer(
  framework: string,
  variant: string,
  opts: { loops?: boolean; guess?: boolean } = {},
): Promise<Server> {
  const mounted = framework === EXPRESS_HANDLER;
  const monitor = variant === 'prodmon' && mounted ? await monitorOf(opts.loops ?? true) : null;
  const engine = variant === 'prodmon' && !mounted ? await prodmon(opts.loops ?? true) : null;
  const hist = variant === 'promclient' ? promHistogram() : null;

  if (framework === 'http') {
    const handler = (_req: IncomingMessage, res: ServerResponse) => {
      res.setHeader('content-type', 'text/plain');
      res.end(BODY);
    };
    const timer = hist ? promTimer(hist, () => ROUTE) : null;
    const listener = engine
      ? engine.wrap(handler, opts.guess ? {} : { route: ROUTE })
      : timer
        ? (req: IncomingMessage, res: ServerResponse) => {
            timer(req, res);
            handler(req, res);
          }
        : handler;
    return createServer(listener);
  }

  if (framework === 'express' || mounted) {
    const app = express();
    if (engine) app.use(engine.middleware());
    if (monitor) app.use(monitor.handler);
    if (hist) {
      const timer = promTimer(hist, (req) => {
        const r = req as express.Request;
        return r.route ? `${r.baseUrl}${r.route.path}` : 'unmatched';
      });
      app.use((req, res, next) => {
        timer(req, res);
        next();
      });
    }
    app.get('/hello/:id', (_req, res) => {
      res.type('text/plain').send(BODY);
    });
    return createServer(app);
  }

  const app = Fastify();
  if (engine) await app.register(engine.fastifyPlugin);
  if (hist) {
    // the usual Fastify peer (fastify-metrics style): hooks with a timer per request
    app.addHook('onRequest', async (req) => {
      (req as unknown as { end: (l: object) => void }).end = hist.startTimer();
    });
    app.addHook('onResponse', async (req, reply) => {
      (req as unknown as { end: (l: object) => void }).end({
        route: req.routeOptions.url ?? 'unmatched',
        method: req.method,
        status_code: reply.statusCode,
      });
    });
  }
  app.get('/hello/:id', async (_req, reply) => reply.type('text/plain').send(BODY));
  await app.ready();
  return app.server;
}
