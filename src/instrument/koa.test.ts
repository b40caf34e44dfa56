import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import Router from '@koa/router';
import Koa from 'koa';
import { closeServer, listenLocal, requestAll } from '../../test/support/http-load.js';
import { requestCount, seriesOf } from '../../test/support/http-metrics.js';
import { testEngine } from '../../test/support/metrics.js';
import { waitFor } from '../../test/support/wait.js';
import { FakeClock } from '../core/clock.js';
import type { MetricsEngine } from '../metrics/engine.js';
import { UNMATCHED } from './track.js';

describe('Koa 3 middleware with @koa/router in a real app', () => {
  let engine: MetricsEngine;
  let server: Server;
  let base: string;

  before(async () => {
    engine = testEngine({ clock: new FakeClock() });
    const app = new Koa();
    app.silent = true; // the thrown errors below are expected
    app.use(engine.koa());
    const router = new Router();
    router.get('/products/:id', (ctx) => {
      ctx.body = { id: ctx.params.id };
    });
    router.get('/boom', async () => {
      throw new Error('failure');
    });
    router.get('/invalid', (ctx) => {
      ctx.throw(400, 'bad input');
    });
    const api = new Router({ prefix: '/api' });
    api.get('/items/:id', (ctx) => {
      ctx.body = 'item';
    });
    app.use(router.routes()).use(router.allowedMethods());
    app.use(api.routes());
    server = createServer(app.callback());
    base = await listenLocal(server);
  });
  after(async () => {
    await closeServer(server);
    engine.recorder.close();
  });

  test('requests are recorded under the matched route template, with the router prefix', async () => {
    const start = requestCount(engine);
    await requestAll(base, ['/products/1', '/products/2?x=1', '/api/items/7']);
    await waitFor(() => requestCount(engine) === start + 3, { what: 'three requests recorded' });
    assert.equal(seriesOf(engine, '/products/:id', '2xx')?.count, 2);
    assert.equal(seriesOf(engine, '/api/items/:id', '2xx')?.count, 1);
  });

  test('404s fold into one unmatched label', async () => {
    const start = requestCount(engine);
    assert.deepEqual(await requestAll(base, ['/nope/1', '/nope/2']), [404, 404]);
    await waitFor(() => requestCount(engine) === start + 2, { what: 'two 404s recorded' });
    assert.deepEqual(
      [seriesOf(engine, UNMATCHED, '4xx')?.count, seriesOf(engine, UNMATCHED, '4xx')?.errors],
      [2, 0],
    );
  });

  test('thrown errors count as errors; ctx.throw(400) does not', async () => {
    const start = requestCount(engine);
    assert.deepEqual(await requestAll(base, ['/boom', '/invalid']), [500, 400]);
    await waitFor(() => requestCount(engine) === start + 2, { what: 'two failures recorded' });
    assert.equal(seriesOf(engine, '/boom', '5xx')?.errors, 1);
    assert.equal(seriesOf(engine, '/invalid', '4xx')?.errors, 0);
  });

  test('10,000 distinct URLs leave a handful of series', async () => {
    const start = requestCount(engine);
    const paths = Array.from({ length: 10_000 }, (_, i) => (i % 2 ? `/products/${i}` : `/random/${i}`));
    await requestAll(base, paths, { concurrency: 64 });
    await waitFor(() => requestCount(engine) === start + 10_000, {
      timeout: 20_000,
      what: '10,000 requests recorded',
    });
    assert.equal(seriesOf(engine, '/products/:id', '2xx')?.count, 5002);
    assert.ok(engine.recorder.seriesCount('http_request_duration_ms') <= 8);
    assert.equal(engine.recorder.overflowed, 0);
  });
});
