import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { requestAll } from '../../test/support/http-load.js';
import { requestCount, requestSeries, seriesOf } from '../../test/support/http-metrics.js';
import { testEngine } from '../../test/support/metrics.js';
import { waitFor } from '../../test/support/wait.js';
import { FakeClock } from '../core/clock.js';
import type { MetricsEngine } from '../metrics/engine.js';
import { routeReader } from './fastify.js';
import { UNMATCHED } from './track.js';

describe('Fastify 5 plugin in a real app', () => {
  let engine: MetricsEngine;
  let app: FastifyInstance;
  let base: string;

  before(async () => {
    engine = testEngine({ clock: new FakeClock() });
    app = Fastify();
    await app.register(engine.fastifyPlugin);
    app.get('/products/:id', async (req) => ({ id: (req.params as { id: string }).id }));
    await app.register(
      async (api) => {
        api.get('/items/:id', async () => 'item');
      },
      { prefix: '/api' },
    );
    app.get('/boom', async () => {
      throw new Error('failure');
    });
    app.get('/invalid', async (_req, reply) => {
      reply.code(400);
      throw Object.assign(new Error('bad input'), { statusCode: 400 });
    });
    app.post('/orders', async (_req, reply) => reply.code(201).send({ ok: true }));
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await app.close();
    engine.recorder.close();
  });

  test('requests are recorded under routeOptions.url, with the plugin prefix', async () => {
    const start = requestCount(engine);
    await requestAll(base, ['/products/1', '/products/2?x=1', '/api/items/7']);
    await requestAll(base, ['/orders'], { method: 'POST' });
    await waitFor(() => requestCount(engine) === start + 4, { what: 'four requests recorded' });
    assert.equal(seriesOf(engine, '/products/:id', '2xx')?.count, 2);
    assert.equal(seriesOf(engine, '/api/items/:id', '2xx')?.count, 1);
    assert.deepEqual(
      requestSeries(engine).find((s) => s.route === '/orders'),
      { route: '/orders', method: 'POST', status_class: '2xx', count: 1, errors: 0 },
    );
  });

  test('404s fold into one unmatched label', async () => {
    const start = requestCount(engine);
    assert.deepEqual(await requestAll(base, ['/nope/1', '/nope/2']), [404, 404]);
    await waitFor(() => requestCount(engine) === start + 2, { what: 'two 404s recorded' });
    assert.equal(seriesOf(engine, UNMATCHED, '4xx')?.count, 2);
    assert.equal(seriesOf(engine, UNMATCHED, '4xx')?.errors, 0);
  });

  test('thrown errors count as errors; a thrown 400 does not', async () => {
    const start = requestCount(engine);
    assert.deepEqual(await requestAll(base, ['/boom', '/invalid']), [500, 400]);
    await waitFor(() => requestCount(engine) === start + 2, { what: 'two failures recorded' });
    assert.equal(seriesOf(engine, '/boom', '5xx')?.errors, 1);
    assert.equal(seriesOf(engine, '/invalid', '4xx')?.errors, 0);
  });

  test('injected requests (app.inject, no connection of a node:http server) are recorded as well', async () => {
    const start = requestCount(engine);
    const before = seriesOf(engine, '/products/:id', '2xx')?.count ?? 0;
    const res = await app.inject({ method: 'GET', url: '/products/5' });
    assert.equal(res.statusCode, 200);
    await waitFor(() => requestCount(engine) === start + 1, { what: 'the injected request recorded' });
    assert.equal(seriesOf(engine, '/products/:id', '2xx')?.count, before + 1);
  });

  test('10,000 distinct URLs leave a handful of series', async () => {
    const start = requestCount(engine);
    const products = seriesOf(engine, '/products/:id', '2xx')?.count ?? 0;
    const paths = Array.from({ length: 10_000 }, (_, i) => (i % 2 ? `/products/${i}` : `/random/${i}`));
    await requestAll(base, paths, { concurrency: 64 });
    await waitFor(() => requestCount(engine) === start + 10_000, {
      timeout: 20_000,
      what: '10,000 requests recorded',
    });
    assert.equal(seriesOf(engine, '/products/:id', '2xx')?.count, products + 5000);
    assert.ok(engine.recorder.seriesCount('http_request_duration_ms') <= 8);
    assert.equal(engine.recorder.overflowed, 0);
  });
});

describe('the route of a Fastify request', () => {
  test('read from the route context agrees with routeOptions and is404, on real requests', async () => {
    const app = Fastify();
    const read = routeReader();
    const seen: [string | undefined, string | undefined][] = [];
    app.addHook('onRequest', async (req) => {
      seen.push([read(req as never), req.is404 ? undefined : req.routeOptions.url]);
    });
    app.register(async (sub) => sub.get('/items/:id', async () => 'ok'), { prefix: '/v1' });
    app.get('/', async () => 'root');
    await app.ready();
    for (const url of ['/v1/items/3', '/', '/nowhere']) await app.inject({ method: 'GET', url });
    await app.close();
    assert.deepEqual(seen, [
      ['/v1/items/:id', '/v1/items/:id'],
      ['/', '/'],
      [undefined, undefined],
    ]);
  });

  test('without Fastify’s context symbol the public getters are used', () => {
    const read = routeReader();
    const raw = {} as never;
    assert.equal(read({ raw, is404: false, routeOptions: { url: '/a/:id' } }), '/a/:id');
    assert.equal(read({ raw, is404: true, routeOptions: { url: undefined } }), undefined);
  });
});
