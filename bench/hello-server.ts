/**
 * A hello-world server for bench/overhead.ts, run as a child process:
 * `node --import tsx bench/hello-server.ts <http|express|fastify> <bare|prodmon|promclient>`.
 * Prints `PORT <n>` once listening; answers the IPC message `cpu` with its CPU usage. `prodmon` runs the real metrics engine (SQLite store, flush and
 * sampling loops); `promclient` is the usual peer: a prom-client Histogram observed on every response.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import Fastify from 'fastify';
import { Histogram, Registry } from 'prom-client';
import { parseConfig } from '../src/config/load.js';
import { systemClock } from '../src/core/clock.js';
import { MetricsEngine } from '../src/metrics/engine.js';
import { openStore } from '../src/store/index.js';

const [framework = 'http', variant = 'bare'] = process.argv.slice(2);
const BODY = 'hello world';

async function prodmon(): Promise<MetricsEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'prodmon-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const config = parseConfig({ instance: 'bench' }, { env: {}, dataDir: dir });
  const engine = new MetricsEngine({ config, clock: systemClock });
  const store = await openStore({ driver: 'sqlite', path: join(dir, 'prodmon.db') });
  await store.migrate(Date.now());
  engine.attachStore(store);
  engine.start();
  return engine;
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

async function main(): Promise<string> {
  const engine = variant === 'prodmon' ? await prodmon() : null;
  const hist = variant === 'promclient' ? promHistogram() : null;

  if (framework === 'http') {
    const handler = (_req: IncomingMessage, res: ServerResponse) => {
      res.setHeader('content-type', 'text/plain');
      res.end(BODY);
    };
    const timer = hist ? promTimer(hist, () => '/hello/:id') : null;
    const listener = engine
      ? engine.wrap(handler)
      : timer
        ? (req: IncomingMessage, res: ServerResponse) => {
            timer(req, res);
            handler(req, res);
          }
        : handler;
    const server = createServer(listener);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return String((server.address() as AddressInfo).port);
  }

  if (framework === 'express') {
    const app = express();
    if (engine) app.use(engine.middleware());
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
    const server = createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return String((server.address() as AddressInfo).port);
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
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return new URL(url).port;
}

for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
// The parent asks for this process's CPU time around each run (CPU per request resists noisy neighbours).
process.on('message', (m) => {
  if (m === 'cpu') process.send?.({ cpu: process.cpuUsage() });
});

main().then(
  (port) => process.stdout.write(`PORT ${port}\n`),
  (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
