/** The embedded form: prodmon's routes mounted into a user's Express or plain node:http app. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import express from 'express';
import { requestAll } from '../test/support/http-load.js';
import { requestCount, requestSeries } from '../test/support/http-metrics.js';
import { tempDir } from '../test/support/services.js';
import { waitFor } from '../test/support/wait.js';
import { createApp } from './app.js';
import { FakeClock } from './core/clock.js';
import { readParsed } from './logging/fixtures/read.js';

const dirs: { cleanup: () => void }[] = [];
after(() => {
  for (const d of dirs) d.cleanup();
});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function monitor() {
  const d = tempDir();
  dirs.push(d);
  return createApp({ data_dir: d.path, logs: { stdout: false } }, { env: {}, fileLogs: false });
}

/** GETs each path in turn; returns the statuses. */
const getAll = (url: string, paths: string[]) => requestAll(url, paths, { concurrency: 1 });

/** An Express app with a template route, a route that throws, and whatever `mount` puts first. */
function expressApp(mount: (app: express.Express) => void): express.Express {
  const app = express();
  mount(app);
  const api = express.Router();
  api.get('/products/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  api.get('/fail', () => {
    throw new Error('boom');
  });
  app.use('/api', api);
  app.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ error: 'internal' });
  });
  return app;
}

describe('embedded monitor', () => {
  test('mounted in Express, GET /health/ answers and the app keeps its own routes', async () => {
    const m = monitor();
    await m.start();
    const app = express();
    app.use(express.json());
    app.use(m.handler);
    app.get('/products/:id', (req, res) => {
      res.json({ id: req.params.id });
    });
    app.post('/orders', (req, res) => {
      res.status(201).json(req.body);
    });
    const server = createServer(app);
    const url = await listen(server);
    try {
      const health = await fetch(`${url}/health/`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'healthy' });
      assert.equal((await fetch(`${url}/health/live`)).status, 200);
      assert.deepEqual(await (await fetch(`${url}/products/7`)).json(), { id: '7' });
      const order = await fetch(`${url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sku: 'A1' }),
      });
      assert.equal(order.status, 201);
      assert.deepEqual(await order.json(), { sku: 'A1' });
      // A path under prodmon's namespace that does not exist is prodmon's 404, not the app's.
      const missing = await fetch(`${url}/production/nothing-here`);
      assert.equal(missing.status, 404);
      assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'PRODMON_E_NOT_FOUND');
      const head = await fetch(`${url}/health/`, { method: 'HEAD' });
      assert.equal(head.status, 200);
    } finally {
      server.close();
      await m.stop();
    }
  });

  test('as a plain node:http handler, and readiness fails while draining', async () => {
    const m = monitor();
    await m.start();
    const server = createServer((req, res) =>
      m.handler(req, res, () => {
        res.end('app');
      }),
    );
    const url = await listen(server);
    try {
      assert.equal((await fetch(`${url}/health/ready`)).status, 200);
      assert.equal(await (await fetch(`${url}/shop`)).text(), 'app');
      m.lifecycle.draining = true;
      const ready = await fetch(`${url}/health/ready`);
      assert.equal(ready.status, 503);
      assert.deepEqual(await ready.json(), { status: 'draining' });
      assert.equal((await fetch(`${url}/health/live`)).status, 200);
    } finally {
      server.close();
      await m.stop();
    }
  });

  test('monitor.handler alone records every request it passes on, under the Express route template', async () => {
    const m = monitor();
    await m.start();
    const server = createServer(expressApp((app) => app.use(m.handler)));
    const url = await listen(server);
    try {
      const statuses = await getAll(url, [
        '/api/products/1',
        '/api/products/2',
        '/api/fail',
        '/nothing',
        '/health/',
        '/metrics',
      ]);
      assert.deepEqual(statuses, [200, 200, 500, 404, 200, 200]);
      await waitFor(() => requestCount(m.metrics) === 4, { what: 'the four requests passed on recorded' });
      assert.deepEqual(
        requestSeries(m.metrics).map((s) => [s.route, s.method, s.status_class, s.count, s.errors]),
        [
          ['(unmatched)', 'GET', '4xx', 1, 0],
          ['/api/fail', 'GET', '5xx', 1, 1],
          ['/api/products/:id', 'GET', '2xx', 2, 0],
        ],
        "prodmon's own routes (answered by the handler, not passed on) are not recorded by it",
      );
    } finally {
      server.close();
      await m.stop();
    }
  });

  for (const order of ['handler, then middleware()', 'middleware(), then handler'] as const) {
    test(`with monitor.middleware() as well (${order}), each request is recorded once`, async () => {
      const m = monitor();
      await m.start();
      const server = createServer(
        expressApp((app) => {
          if (order.startsWith('handler')) app.use(m.handler, m.middleware());
          else app.use(m.middleware(), m.handler);
        }),
      );
      const url = await listen(server);
      try {
        await getAll(url, ['/api/products/1', '/api/products/2', '/api/fail', '/nothing']);
        await waitFor(() => requestCount(m.metrics) >= 4, { what: 'four requests recorded' });
        const ours = requestSeries(m.metrics).map((s) => [s.route, s.status_class, s.count, s.errors]);
        assert.deepEqual(ours, [
          ['(unmatched)', '4xx', 1, 0],
          ['/api/fail', '5xx', 1, 1],
          ['/api/products/:id', '2xx', 2, 0],
        ]);
      } finally {
        server.close();
        await m.stop();
      }
    });
  }

  test('in a plain node:http server, the requests passed on are recorded under a guessed template', async () => {
    const m = monitor();
    const server = createServer((req, res) =>
      m.handler(req, res, () => {
        res.statusCode = req.url === '/fail' ? 500 : 200;
        res.end('app');
      }),
    );
    const url = await listen(server);
    try {
      // before start() every request is the app's, and recorded
      await getAll(url, ['/orders/42?x=1']);
      await waitFor(() => requestCount(m.metrics) === 1, { what: 'the request before start recorded' });
      await m.start();
      await getAll(url, ['/orders/7', '/fail', '/health/live']);
      await waitFor(() => requestCount(m.metrics) === 3, { what: 'the requests passed on recorded' });
      assert.deepEqual(
        requestSeries(m.metrics).map((s) => [s.route, s.status_class, s.count, s.errors]),
        [
          ['/fail', '5xx', 1, 1],
          ['/orders/:id', '2xx', 2, 0],
        ],
      );
    } finally {
      server.close();
      await m.stop();
    }
  });

  test('requests passed on but never recorded turn `self` degraded with the reason, and a warning is logged', async () => {
    const d = tempDir();
    dirs.push(d);
    const clock = new FakeClock(Date.UTC(2026, 0, 5, 9, 0, 0));
    const m = createApp({ data_dir: d.path, logs: { stdout: false } }, { env: {}, clock });
    await m.start();
    const hung: express.Response[] = [];
    const app = express();
    app.use(m.handler);
    app.get('/ok', (_req, res) => {
      res.send('ok');
    });
    app.get('/hang', (_req, res) => {
      hung.push(res); // never answered: passed on, never done, so never recorded
    });
    const server = createServer(app);
    const url = await listen(server);
    const clients = new AbortController();
    const self = async () => (await m.health.run()).checks.find((c) => c.name === 'self')!;
    try {
      // answered requests: recorded, so `self` stays healthy whatever the time
      await getAll(url, ['/ok', '/ok', '/ok']);
      await waitFor(() => requestCount(m.metrics) === 3, { what: 'three requests recorded' });
      for (const step of [0, 40_000, 70_000]) {
        await clock.advance(step);
        assert.equal((await self()).status, 'healthy');
      }
      const pending = [1, 2].map(() =>
        fetch(`${url}/hang`, { signal: clients.signal }).catch((err: Error) => err.name),
      );
      await waitFor(() => hung.length === 2, { what: 'both requests reached the app' });
      assert.equal((await self()).status, 'healthy', 'running requests are not counted yet');
      await clock.advance(20_000);
      assert.equal((await self()).status, 'healthy', 'nor after 20 s');
      await clock.advance(10_000);
      const degraded = await self();
      assert.equal(degraded.status, 'degraded');
      assert.match(
        degraded.error ?? '',
        /^handler: degraded \(2 requests passed monitor\.handler in the last \d+ s but none was recorded\)$/,
      );
      assert.equal(m.lifecycle.selfStatus(), 'degraded');
      // the clients give up: the aborted requests are recorded, and `self` is healthy again
      clients.abort();
      assert.deepEqual(await Promise.all(pending), ['AbortError', 'AbortError']);
      await waitFor(() => requestCount(m.metrics) === 5, { what: 'the aborted requests recorded' });
      assert.equal((await self()).status, 'healthy');
    } finally {
      clients.abort();
      server.close();
      await m.stop();
    }
    const lines = await readParsed(m.config.paths.logs, 'application');
    const said = lines.filter((l) => String(l.msg).includes('monitor.handler'));
    assert.deepEqual(
      said.map((l) => [l.level, l.passed]),
      [
        [40, 2],
        [30, undefined],
      ],
      'one warning when it starts, one line when it ends',
    );
    assert.match(
      String(said[0]!.msg),
      /^2 requests passed monitor\.handler in the last \d+ s but none was recorded/,
    );
  });

  test('a bad embedded config throws a ConfigError naming the field', () => {
    assert.throws(
      () => createApp({ server: { port: 'x' } } as never, { env: {} }),
      /createMonitor config: server\.port: expected a number, got "x"/,
    );
  });
});
