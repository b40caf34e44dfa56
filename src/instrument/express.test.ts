import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import express, { type NextFunction, type Request, type Response } from 'express';
import { closeServer, listenLocal, requestAll } from '../../test/support/http-load.js';
import { requestCount, requestSeries, seriesOf } from '../../test/support/http-metrics.js';
import { testEngine } from '../../test/support/metrics.js';
import { waitFor } from '../../test/support/wait.js';
import { FakeClock } from '../core/clock.js';
import type { MetricsEngine } from '../metrics/engine.js';
import { UNMATCHED } from './track.js';

describe('Express 5 middleware in a real app', () => {
  let engine: MetricsEngine;
  let server: Server;
  let base: string;

  before(async () => {
    engine = testEngine({ clock: new FakeClock() });
    const app = express();
    app.use(engine.middleware());
    app.get('/products/:id', (req, res) => {
      res.json({ id: req.params.id });
    });
    const api = express.Router();
    api.get('/items/:id', (_req, res) => {
      res.send('item');
    });
    api.get('/', (_req, res) => {
      res.send('api root');
    });
    api.get('/items/:id/fail', () => {
      throw new Error('failure inside a mounted router');
    });
    api.get('/items/:id/async-fail', async () => {
      throw new Error('async failure inside a mounted router');
    });
    const v2 = express.Router();
    v2.get('/things/:thing', () => {
      throw new Error('failure two routers deep');
    });
    v2.get('/pass/:id', (_req, _res, next) => next()); // matches, then leaves the router
    api.use('/v2', v2);
    app.use('/api', api);
    const sub = express(); // a mounted sub-app has its own request prototype
    sub.get('/orders/:id', (req, res) => {
      if (req.query.fail) throw new Error('failure in a sub-app');
      res.send('order');
    });
    app.use('/shop', sub);
    app.get('/api/v2/pass/:id', (_req, res) => {
      res.send('answered by the app after the router passed');
    });
    app.get('/boom', () => {
      throw new Error('sync failure');
    });
    app.get('/async-boom', async () => {
      throw new Error('async failure');
    });
    app.get('/invalid', () => {
      throw Object.assign(new Error('bad input'), { status: 400 });
    });
    app.get('/handled', () => {
      throw new Error('turned into a 422 by the app');
    });
    app.use(engine.errorHandler());
    app.use((err: Error & { status?: number }, req: Request, res: Response, _next: NextFunction) => {
      res.status(req.path === '/handled' ? 422 : (err.status ?? 500)).send(err.message);
    });
    server = createServer(app);
    base = await listenLocal(server);
  });
  after(async () => {
    await closeServer(server);
    engine.recorder.close();
  });

  test('requests are recorded under their route template, with the router prefix', async () => {
    const start = requestCount(engine);
    await requestAll(base, ['/products/1', '/products/2?x=1', '/api/items/7', '/api/', '/api']);
    await waitFor(() => requestCount(engine) === start + 5, { what: 'five requests recorded' });
    assert.equal(seriesOf(engine, '/products/:id', '2xx')?.count, 2);
    assert.equal(seriesOf(engine, '/api/items/:id', '2xx')?.count, 1);
    assert.equal(seriesOf(engine, '/api', '2xx')?.count, 2);
    assert.ok(!requestSeries(engine).some((s) => /\d/.test(s.route)), 'no raw ids in labels');
  });

  test('a failing route of a mounted router keeps its mount prefix (the router resets req.baseUrl on the way out)', async () => {
    const start = requestCount(engine);
    const statuses = await requestAll(base, [
      '/api/items/7/fail',
      '/api/items/8/async-fail',
      '/api/v2/things/9',
      '/shop/orders/3?fail=1',
      '/shop/orders/4',
    ]);
    assert.deepEqual(statuses, [500, 500, 500, 500, 200]);
    await waitFor(() => requestCount(engine) === start + 5, { what: 'five requests recorded' });
    assert.equal(seriesOf(engine, '/api/items/:id/fail', '5xx')?.errors, 1);
    assert.equal(seriesOf(engine, '/api/items/:id/async-fail', '5xx')?.errors, 1);
    assert.equal(seriesOf(engine, '/api/v2/things/:thing', '5xx')?.errors, 1);
    assert.equal(seriesOf(engine, '/shop/orders/:id', '5xx')?.errors, 1);
    assert.equal(seriesOf(engine, '/shop/orders/:id', '2xx')?.count, 1);
    const routes = requestSeries(engine).map((s) => s.route);
    for (const r of ['/items/:id/fail', '/items/:id/async-fail', '/things/:thing', '/orders/:id'])
      assert.ok(!routes.includes(r), `no label without its prefix: ${r}`);
  });

  test('the last route that matched names the request, even when a router passed it on', async () => {
    const start = requestCount(engine);
    assert.deepEqual(await requestAll(base, ['/api/v2/pass/5']), [200]);
    await waitFor(() => requestCount(engine) === start + 1, { what: 'one request recorded' });
    assert.equal(seriesOf(engine, '/api/v2/pass/:id', '2xx')?.count, 1);
  });

  test('req.route still reads what the router set; nothing is added to the request or response object', async () => {
    const app = express();
    const keysBefore: (string | symbol)[] = [];
    app.use((_req, res, next) => {
      keysBefore.push(...Reflect.ownKeys(res));
      next();
    });
    app.use(engine.middleware());
    const seen: unknown[] = [];
    const r = express.Router();
    r.get('/x/:id', (req, res) => {
      seen.push(req.route?.path, req.baseUrl);
      // the matched route is kept by the tracker: neither `route` nor prodmon's own key lands on req
      const reqKeys = Reflect.ownKeys(req);
      assert.ok(!reqKeys.includes('route') && !reqKeys.includes(Symbol.for('prodmon.express.match')));
      // an added property gives an Express response a hidden class of its own: every later access slows
      assert.deepEqual(Reflect.ownKeys(res), keysBefore);
      res.send('ok');
    });
    app.use('/m', r);
    const s = createServer(app);
    const b = await listenLocal(s);
    try {
      assert.deepEqual(await requestAll(b, ['/m/x/1']), [200]);
      assert.deepEqual(seen, ['/x/:id', '/m']);
    } finally {
      await closeServer(s);
    }
  });

  test('behind an asynchronous middleware, with requests interleaved, each is recorded under its own route', async () => {
    const app = express();
    app.use((_req, _res, next) => setTimeout(next, 5)); // prodmon's middleware runs later, not at the start
    app.use(engine.middleware());
    app.get('/late/:id', (req, res) => {
      setTimeout(() => res.status(req.route?.path === '/late/:id' ? 200 : 500).send('late'), 5);
    });
    app.get('/other/:id', (_req, res) => {
      res.send('ok');
    });
    const s = createServer(app);
    const b = await listenLocal(s);
    try {
      const start = requestCount(engine);
      const paths = Array.from({ length: 40 }, (_, i) => (i % 2 ? `/late/${i}` : `/other/${i}`));
      assert.deepEqual(
        await requestAll(b, paths, { concurrency: 20 }),
        paths.map(() => 200),
      );
      await waitFor(() => requestCount(engine) === start + 40, { what: '40 requests recorded' });
      assert.equal(seriesOf(engine, '/late/:id', '2xx')?.count, 20);
      assert.equal(seriesOf(engine, '/other/:id', '2xx')?.count, 20);
    } finally {
      await closeServer(s);
    }
  });

  test('the middleware mounted on a route itself (after the router matched) records it and keeps req.route', async () => {
    // an app with the middleware first installs prodmon's route accessor (on Express's shared request
    // prototype), which the route-mounted case must then live with
    const first = express();
    first.use(engine.middleware());
    first.get('/first', (_req, res) => {
      res.send('first');
    });
    const fs = createServer(first);
    try {
      assert.deepEqual(await requestAll(await listenLocal(fs), ['/first']), [200]);
    } finally {
      await closeServer(fs);
    }
    const app = express();
    app.get('/own/:id', engine.middleware(), (req, res) => {
      res.status(req.route?.path === '/own/:id' ? 200 : 500).send('own');
    });
    const s = createServer(app);
    const b = await listenLocal(s);
    try {
      assert.deepEqual(await requestAll(b, ['/own/1', '/own/2']), [200, 200]);
      await waitFor(() => seriesOf(engine, '/own/:id', '2xx')?.count === 2, {
        what: 'two requests recorded',
      });
    } finally {
      await closeServer(s);
    }
  });

  test('404s fold into one unmatched label and are not errors', async () => {
    const start = requestCount(engine);
    const statuses = await requestAll(base, ['/nope/1', '/nope/2', '/also/missing']);
    assert.deepEqual(statuses, [404, 404, 404]);
    await waitFor(() => requestCount(engine) === start + 3, { what: 'three 404s recorded' });
    assert.deepEqual(seriesOf(engine, UNMATCHED, '4xx'), {
      route: UNMATCHED,
      method: 'GET',
      status_class: '4xx',
      count: 3,
      errors: 0,
    });
  });

  test('thrown errors (sync, async, or answered 4xx by the app) count as errors; a 400 error does not', async () => {
    const start = requestCount(engine);
    const statuses = await requestAll(base, ['/boom', '/async-boom', '/handled', '/invalid']);
    assert.deepEqual(statuses, [500, 500, 422, 400]);
    await waitFor(() => requestCount(engine) === start + 4, { what: 'four failures recorded' });
    assert.equal(seriesOf(engine, '/boom', '5xx')?.errors, 1);
    assert.equal(seriesOf(engine, '/async-boom', '5xx')?.errors, 1);
    assert.equal(seriesOf(engine, '/handled', '4xx')?.errors, 1);
    assert.equal(seriesOf(engine, '/invalid', '4xx')?.errors, 0);
  });

  test('10,000 distinct URLs leave a handful of series', async () => {
    const start = requestCount(engine);
    const seriesBefore = engine.recorder.seriesCount('http_request_duration_ms');
    const paths = Array.from({ length: 10_000 }, (_, i) =>
      i % 2 ? `/products/${i}` : `/random/${i}/${i * 7}`,
    );
    await requestAll(base, paths, { concurrency: 64 });
    await waitFor(() => requestCount(engine) === start + 10_000, {
      timeout: 20_000,
      what: '10,000 requests recorded',
    });
    assert.equal(seriesOf(engine, '/products/:id', '2xx')?.count, 5002);
    const added = engine.recorder.seriesCount('http_request_duration_ms') - seriesBefore;
    assert.ok(added <= 2, `series stay bounded (${added} new)`);
    assert.equal(engine.recorder.overflowed, 0);
  });
});
