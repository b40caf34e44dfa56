import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { closeServer, listenLocal, requestAll } from '../../test/support/http-load.js';
import { requestCount, requestSeries, seriesOf } from '../../test/support/http-metrics.js';
import { testEngine } from '../../test/support/metrics.js';
import { waitFor } from '../../test/support/wait.js';
import { FakeClock } from '../core/clock.js';
import type { MetricsEngine } from '../metrics/engine.js';
import { METRIC } from '../metrics/names.js';
import { OVERFLOW } from '../metrics/recorder.js';
import { ABORTED, guessedTemplatesKept, templateFromPath, UNMATCHED } from './track.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;

describe('node:http wrapper in a real server', () => {
  let servers: Server[] = [];
  let engines: MetricsEngine[] = [];
  afterEach(async () => {
    for (const s of servers) await closeServer(s);
    for (const e of engines) e.recorder.close();
    servers = [];
    engines = [];
  });

  async function serve(wrap: (e: MetricsEngine) => Handler, metrics = {}): Promise<[MetricsEngine, string]> {
    const engine = testEngine({ clock: new FakeClock(), metrics });
    engines.push(engine);
    const server = createServer(wrap(engine));
    servers.push(server);
    return [engine, await listenLocal(server)];
  }

  /** How many /slow requests the app has begun, and answered (after 300 ms, even if the client left). */
  const slow = { begun: 0, answered: 0 };
  const app: Handler = async (req, res) => {
    if (req.url?.startsWith('/products/')) return res.end('product');
    if (req.url === '/boom') throw new Error('failure');
    if (req.url === '/slow') {
      slow.begun++;
      await delay(300);
      res.end('late');
      slow.answered++;
      return;
    }
    res.statusCode = 404;
    res.end('not found');
  };

  test('without a route, a template is guessed from the path and 404s fold into one label', async () => {
    const [engine, base] = await serve((e) =>
      e.wrap(app, {
        onError: (_err, _req, res) => {
          res.statusCode = 500;
          res.end('failed');
        },
      }),
    );
    await requestAll(base, [
      '/products/1',
      '/products/2',
      '/products/3f2a9c1e-0b4d-4a8e-9c3f-1a2b3c4d5e6f',
      '/x/1',
      '/y/2',
    ]);
    await waitFor(() => requestCount(engine) === 5, { what: 'five requests' });
    assert.equal(seriesOf(engine, '/products/:id', '2xx')?.count, 3);
    assert.equal(seriesOf(engine, UNMATCHED, '4xx')?.count, 2);
  });

  test('thrown errors go to onError and count as errors', async () => {
    const [engine, base] = await serve((e) =>
      e.wrap(app, {
        route: (req) => (req.url === '/boom' ? '/boom' : undefined),
        onError: (_err, _req, res) => {
          res.statusCode = 503;
          res.end('failed');
        },
      }),
    );
    assert.deepEqual(await requestAll(base, ['/boom', '/boom']), [503, 503]);
    await waitFor(() => requestCount(engine) === 2, { what: 'two failures' });
    assert.deepEqual(
      [seriesOf(engine, '/boom', '5xx')?.count, seriesOf(engine, '/boom', '5xx')?.errors],
      [2, 2],
    );
  });

  test('a request the client abandons is recorded as aborted, not as an error', async () => {
    const [engine, base] = await serve((e) => e.wrap(app, { route: '/slow' }));
    const ctl = new AbortController();
    const begun = slow.begun;
    const req = fetch(`${base}/slow`, { signal: ctl.signal }).catch((e: Error) => e.name);
    await waitFor(() => slow.begun === begun + 1, { what: 'the app to begin the request' });
    ctl.abort();
    assert.equal(await req, 'AbortError');
    await waitFor(() => requestCount(engine) === 1, { what: 'the aborted request' });
    assert.deepEqual(
      [seriesOf(engine, '/slow', ABORTED)?.count, seriesOf(engine, '/slow', ABORTED)?.errors],
      [1, 0],
    );
  });

  test('guessed templates are remembered by URL, at most 1,000 of them, whatever the number of URLs', async () => {
    const [engine, base] = await serve((e) => e.wrap((_req, res) => res.end('ok')));
    const paths = Array.from({ length: 2500 }, (_, i) => `/products/${i}/reviews`);
    await requestAll(base, [...paths, '/products/7/reviews', '/about'], { concurrency: 32 });
    await waitFor(() => requestCount(engine) === 2502, { what: 'every request' });
    assert.equal(seriesOf(engine, '/products/:id/reviews', '2xx')?.count, 2501);
    assert.equal(seriesOf(engine, '/about', '2xx')?.count, 1);
    assert.ok(guessedTemplatesKept() <= 1000, `${guessedTemplatesKept()} kept`);
    assert.ok(guessedTemplatesKept() > 0);
  });

  test('with error_statuses 4xx+5xx a 404 counts as an error', async () => {
    const [engine, base] = await serve((e) => e.wrap(app), { error_statuses: '4xx+5xx' });
    await requestAll(base, ['/missing']);
    await waitFor(() => requestCount(engine) === 1, { what: 'the 404' });
    assert.equal(seriesOf(engine, UNMATCHED, '4xx')?.errors, 1);
  });

  test('requests whose method and route change from one to the next are each counted under their own', async () => {
    const plain: Handler = (req, res) => {
      res.statusCode = req.url === '/missing' ? 404 : 200;
      res.end();
    };
    const [engine, base] = await serve((e) => e.wrap(plain));
    // one at a time, so every request follows one of another method or route (or both)
    const plan: [string, string][] = [];
    for (let i = 0; i < 10; i++) {
      plan.push(['GET', '/a/1'], ['GET', '/b/2'], ['POST', '/a/3'], ['POST', '/missing'], ['DELETE', '/b/4']);
      if (i % 2 === 0) plan.push(['GET', '/missing'], ['GET', '/a/5']);
    }
    for (const [method, path] of plan) await requestAll(base, [path], { method, concurrency: 1 });
    await waitFor(() => requestCount(engine) === plan.length, { what: 'every request' });
    const counts = new Map<string, number>();
    for (const s of requestSeries(engine)) counts.set(`${s.method} ${s.route} ${s.status_class}`, s.count);
    const expected: [string, number][] = [
      ['DELETE /b/:id 2xx', 10],
      [`GET ${UNMATCHED} 4xx`, 5],
      ['GET /a/:id 2xx', 15],
      ['GET /b/:id 2xx', 10],
      [`POST ${UNMATCHED} 4xx`, 10],
      ['POST /a/:id 2xx', 10],
    ];
    assert.deepEqual([...counts].sort(), expected.sort());
  });

  test('the label cap holds under 10,000 distinct URLs used as routes: one overflow series takes the rest', async () => {
    const [engine, base] = await serve((e) => e.wrap(app, { route: (req) => req.url }), { max_series: 100 });
    const paths = Array.from({ length: 10_000 }, (_, i) => `/products/${i}`);
    await requestAll(base, paths, { concurrency: 64 });
    await waitFor(() => requestCount(engine) === 10_000, { timeout: 20_000, what: '10,000 requests' });
    assert.equal(engine.recorder.seriesCount(METRIC.httpRequest), 101);
    assert.equal(seriesOf(engine, OVERFLOW)?.count, 9_900);
    assert.equal(engine.recorder.overflowed, 9_900);
  });

  /** Sends `paths` as pipelined GETs in one write on a raw connection; returns the open socket. */
  async function pipelined(
    base: string,
    paths: string[],
  ): Promise<{ socket: Socket; received: () => string }> {
    const { port } = new URL(base);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString();
    });
    socket.write(paths.map((p) => `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`).join(''));
    return { socket, received: () => text };
  }

  test('pipelined requests on one connection are each recorded under their own route', async () => {
    const [engine, base] = await serve((e) => e.wrap(app));
    const { socket, received } = await pipelined(base, ['/slow', '/products/1', '/x', '/products/2']);
    await waitFor(() => received().split('HTTP/1.1 ').length === 5, { what: 'four responses' });
    await waitFor(() => requestCount(engine) === 4, { what: 'four requests' });
    socket.destroy();
    assert.equal(seriesOf(engine, '/slow', '2xx')?.count, 1);
    assert.equal(seriesOf(engine, '/products/:id', '2xx')?.count, 2);
    assert.equal(seriesOf(engine, UNMATCHED, '4xx')?.count, 1);
    assert.equal(seriesOf(engine, '/slow', ABORTED), undefined);
  });

  test('when a kept-alive connection closes, the requests still in flight on it are aborted; finished ones are not', async () => {
    const [engine, base] = await serve((e) => e.wrap(app));
    const { socket, received } = await pipelined(base, ['/products/1']);
    await waitFor(() => requestCount(engine) === 1, { what: 'the first request' });
    const begun = slow.begun;
    const answered = slow.answered;
    socket.write(
      'GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
    );
    await waitFor(() => slow.begun === begun + 2, { what: 'the app to begin both /slow requests' });
    socket.destroy();
    await waitFor(() => requestCount(engine) === 3, { what: 'the two abandoned requests' });
    assert.equal(received().split('HTTP/1.1 ').length, 2, 'one response was sent');
    assert.deepEqual(
      [seriesOf(engine, '/products/:id', '2xx')?.count, seriesOf(engine, '/slow', ABORTED)?.count],
      [1, 2],
    );
    // The handlers answer after the connection is gone: nothing is recorded twice.
    await waitFor(() => slow.answered === answered + 2, { what: 'the app to answer both /slow requests' });
    await new Promise((r) => setImmediate(r)); // and the I/O callbacks of those answers
    assert.equal(requestCount(engine), 3);
  });

  test('1,000 requests on one kept-alive connection are all recorded, and the connection keeps none of them', async () => {
    let served: Socket | undefined;
    const [engine, base] = await serve((e) =>
      e.wrap((req, res) => {
        served = req.socket;
        res.end('ok');
      }),
    );
    const { socket } = await pipelined(base, []);
    const paths = Array.from({ length: 1000 }, (_, i) => `/products/${i}`);
    for (let i = 0; i < paths.length; i += 100) {
      const batch = paths.slice(i, i + 100);
      socket.write(batch.map((p) => `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`).join(''));
      await delay(5);
    }
    await waitFor(() => requestCount(engine) === 1000, { what: '1,000 requests' });
    const slot = (served as unknown as Record<symbol, { first?: unknown; more?: unknown }>)[
      Symbol.for('prodmon.track.socket')
    ];
    assert.deepEqual(slot, { first: undefined, more: undefined }, 'nothing left in flight on the connection');
    // The server's side of the connection closes (the instrumentation hears of it first): nothing is
    // then recorded as aborted.
    const closed = new Promise((r) => served!.once('close', r));
    socket.destroy();
    await closed;
    await new Promise((r) => setImmediate(r));
    assert.equal(requestCount(engine), 1000);
    assert.equal(seriesOf(engine, '/products/:id', ABORTED), undefined);
  });

  test('tracking by hand with track() records the given route once, even if tracked twice', async () => {
    const [engine, base] = await serve((e) => (req, res) => {
      e.track(req, res);
      e.track(req, res, '/orders/:id');
      res.end('ok');
    });
    await requestAll(base, ['/orders/9']);
    await waitFor(() => requestCount(engine) === 1, { what: 'one request' });
    assert.equal(seriesOf(engine, '/orders/:id', '2xx')?.count, 1);
  });
});

test('guessed templates replace ids, uuids and long tokens and drop the query', () => {
  assert.equal(templateFromPath('/orders/42?x=1'), '/orders/:id');
  assert.equal(templateFromPath('/u/3f2a9c1e-0b4d-4a8e-9c3f-1a2b3c4d5e6f/avatar'), '/u/:id/avatar');
  assert.equal(templateFromPath('/t/deadbeefdeadbeef00'), '/t/:id');
  assert.equal(templateFromPath('/s/abcDEF123ghiJKL456mno'), '/s/:id');
  assert.equal(templateFromPath('/products/red-shoes'), '/products/red-shoes');
  assert.equal(templateFromPath('/'), '/');
});
