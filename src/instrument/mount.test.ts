/** What `monitor.handler` passes on: tracked once, and watched for requests that are never recorded. */
import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { requestCount } from '../../test/support/http-metrics.js';
import { testEngine } from '../../test/support/metrics.js';
import { FakeClock } from '../core/clock.js';
import type { MetricsEngine } from '../metrics/engine.js';
import { PASS_ON_SETTLE_MS, PassOn, PassOnWatch, passOnWindow } from './mount.js';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

/** A request and its response outside any server (closed by hand, as a serverless adapter would). */
function exchange(url: string): { req: IncomingMessage; res: ServerResponse; done: () => void } {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = url;
  const res = new ServerResponse(req);
  return {
    req,
    res,
    done: () => {
      res.end();
      res.emit('close');
    },
  };
}

describe('PassOn and PassOnWatch', () => {
  let engine: MetricsEngine;
  let passOn: PassOn;
  beforeEach(() => {
    engine = testEngine({ clock: new FakeClock(T0) });
    passOn = new PassOn(engine.requests);
  });
  afterEach(() => engine.recorder.close());

  test('a request passed on is recorded once when done, under a guessed template', () => {
    const x = exchange('/orders/42?x=1');
    passOn.record(x.req, x.res);
    engine.track(x.req, x.res); // an adapter tracking the same response again
    assert.equal(requestCount(engine), 0, 'not before it is done');
    x.done();
    assert.equal(requestCount(engine), 1);
    assert.equal([...engine.recorder.allSeries('http_request_duration_ms')][0]!.labels.route, '/orders/:id');
    assert.equal(passOn.passed, 1);
    assert.equal(engine.requests.recorded, 1);
  });

  test('requests passed on and not done after the settle time are a finding until one is recorded', () => {
    const watch = new PassOnWatch(passOn, T0);
    const a = exchange('/a');
    const b = exchange('/b');
    passOn.record(a.req, a.res);
    passOn.record(b.req, b.res);
    assert.equal(watch.check(T0 + 10_000), null, 'still running');
    assert.equal(watch.check(T0 + 10_000 + PASS_ON_SETTLE_MS - 1), null, 'not yet settled');
    const f = watch.check(T0 + 10_000 + PASS_ON_SETTLE_MS);
    assert.deepEqual(f, {
      passed: 2,
      spanMs: 10_000 + PASS_ON_SETTLE_MS,
      message: '2 requests passed monitor.handler in the last 40 s but none was recorded',
    });
    a.done();
    assert.equal(watch.check(T0 + 50_000), null, 'one recorded: requests are being recorded');
  });

  test('answered requests are never a finding', () => {
    const watch = new PassOnWatch(passOn, T0);
    for (let t = 0; t <= 300_000; t += 10_000) {
      const x = exchange(`/r/${t}`);
      passOn.record(x.req, x.res);
      x.done();
      assert.equal(watch.check(T0 + t), null, `at +${t} ms`);
    }
  });

  test('the finding leaves the window: what passed over a window ago is not reported again', () => {
    const watch = new PassOnWatch(passOn, T0);
    const x = exchange('/stuck');
    passOn.record(x.req, x.res);
    let last = null;
    for (let t = 10_000; t <= 60_000; t += 10_000) last = watch.check(T0 + t);
    assert.equal(last?.passed, 1);
    for (let t = 70_000; t <= 200_000; t += 10_000) last = watch.check(T0 + t);
    assert.equal(last, null);
  });

  test('read every 60 s (a long health.refresh_interval), the window widens so a finding is still seen', () => {
    const interval = 60_000;
    const watch = new PassOnWatch(passOn, T0, passOnWindow(interval));
    assert.equal(passOnWindow(10_000), 60_000);
    assert.equal(passOnWindow(interval), 150_000);
    watch.check(T0);
    const x = exchange('/stuck');
    passOn.record(x.req, x.res); // just after a reading
    const found = [1, 2, 3].map((k) => watch.check(T0 + k * interval)?.passed ?? 0);
    assert.deepEqual(found, [0, 1, 1]);
  });
});
