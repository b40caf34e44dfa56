import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import express, { type NextFunction, type Request, type Response } from 'express';
import { closeServer, listenLocal, requestAll, until } from '../../test/support/http-load.js';
import { requestCount, requestSeries, seriesOf } from '../../test/support/http-metrics.js';
import { testEngine } from '../../test/support/metrics.js';
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
    app.use('/api', api);
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
    await until(() => requestCount(engine) === start + 5, 'five requests recorded');
    assert.equal(seriesOf(engine, '/products/:id', '2xx')?.count, 2);
    assert.equal(seriesOf(engine, '/api/items/:id', '2xx')?.count, 1);
    assert.equal(seriesOf(engine, '/api', '2xx')?.count, 2);
    assert.ok(!requestSeries(engine).some((s) => /\d/.test(s.route)), 'no raw ids in labels');
  });

  test('404s fold into one unmatched label and are not errors', async () => {
    const start = requestCount(engine);
    const statuses = await requestAll(base, ['/nope/1', '/nope/2', '/also/missing']);
    assert.deepEqual(statuses, [404, 404, 404]);
    await until(() => requestCount(engine) === start + 3, 'three 404s recorded');
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
    await until(() => requestCount(engine) === start + 4, 'four failures recorded');
    assert.equal(seriesOf(engine, '/boom', '5xx')?.errors, 1);
    assert.equal(seriesOf(engine, '/async-boom', '5xx')?.errors, 1);
    assert.equal(seriesOf(engine, '/handled', '4xx')?.errors, 1);
    assert.equal(seriesOf(engine, '/invalid', '4xx')?.errors, 0);
  });

  test('10,000 distinct URLs leave a handful of series', async () => {
    const start = requestCount(engine);
    const paths = Array.from({ length: 10_000 }, (_, i) =>
      i % 2 ? `/products/${i}` : `/random/${i}/${i * 7}`,
    );
    await requestAll(base, paths, { concurrency: 64 });
    await until(() => requestCount(engine) === start + 10_000, '10,000 requests recorded', 20_000);
    assert.equal(seriesOf(engine, '/products/:id', '2xx')?.count, 5002);
    assert.ok(engine.recorder.seriesCount('http_request_duration_ms') <= 12, 'series stay bounded');
    assert.equal(engine.recorder.overflowed, 0);
  });
});
