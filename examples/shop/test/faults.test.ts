/** The demo's fault switches and their control endpoint, against a real shop on each storage. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Faults } from '../src/faults.js';
import { noTelemetry, type SecurityEvent, type ShopLog, silentLogger } from '../src/telemetry.js';
import { call, type Running, STORES } from './support/shop.js';

for (const store of STORES) {
  describe(`fault switches (${store.name})`, () => {
    let s: Running;
    let roll = 0;
    const errors: string[] = [];
    const security: SecurityEvent[] = [];
    let waits = 0;
    const token = randomBytes(24).toString('hex');
    before(async () => {
      const errorLog: ShopLog = { ...silentLogger.error, error: (_o, m) => errors.push(m ?? '') };
      const t = noTelemetry({ ...silentLogger, error: errorLog });
      s = await store.start({
        faults: new Faults({ slowDbMs: 120, errorRatio: 0.5, random: () => roll }),
        demoToken: token,
        telemetry: {
          ...t,
          security: (e) => security.push(e),
          timeDbWait: (fn) => {
            waits++;
            return fn();
          },
        },
      });
    });
    after(() => s.cleanup());
    const auth = { authorization: `Bearer ${token}` };

    test('errors: requests whose roll is under the ratio fail with 500, the rest pass', async () => {
      s.shop.faults.set('errors', true);
      roll = 0.2;
      const failed = await call(s.url, 'GET', '/api/products');
      assert.equal(failed.status, 500);
      assert.equal(failed.body.error.code, 'injected_fault');
      assert.ok(
        errors.some((m) => /injected/.test(m)),
        'the failure reaches the error log',
      );
      roll = 0.7;
      assert.equal((await call(s.url, 'GET', '/api/products')).status, 200);
      s.shop.faults.set('errors', false);
      roll = 0;
      assert.equal((await call(s.url, 'GET', '/api/products')).status, 200);
    });

    test('slow-db: every statement waits the configured delay while it is on', async () => {
      await call(s.url, 'GET', '/api/products/3');
      s.shop.faults.set('slow-db', true);
      const w0 = waits;
      const t1 = performance.now();
      const r = await call(s.url, 'GET', '/api/products/3');
      const slow = performance.now() - t1;
      s.shop.faults.set('slow-db', false);
      assert.equal(r.status, 200);
      // Two statements (product, then its stock with no cache): at least two delays. A delay never
      // ends early, so this lower bound holds however busy the machine is (an upper bound would not).
      assert.ok(slow >= 240, `slow request took ${slow.toFixed(0)} ms`);
      if (store.name === 'sqlite')
        assert.ok(waits - w0 >= 2, 'the injected waits are timed as database waits');
    });

    test('the control endpoint needs the token; without it, a security event', async () => {
      const none = await call(s.url, 'POST', '/_demo/fault', { fault: 'errors', on: true });
      assert.equal(none.status, 401);
      const wrong = await call(
        s.url,
        'POST',
        '/_demo/fault',
        { fault: 'errors', on: true },
        { authorization: 'Bearer nope' },
      );
      assert.equal(wrong.status, 401);
      assert.equal(s.shop.faults.isOn('errors'), false);
      assert.deepEqual(
        security.map((e) => [e.type, e.reason]),
        [
          ['api_auth_failure', 'no token'],
          ['api_auth_failure', 'invalid token'],
        ],
      );
      const on = await call(s.url, 'POST', '/_demo/fault', { fault: 'slow-db', on: true }, auth);
      assert.equal(on.status, 200);
      assert.deepEqual(on.body.active, ['slow-db']);
      assert.ok(s.shop.faults.isOn('slow-db'));
      assert.deepEqual((await call(s.url, 'GET', '/_demo/fault', undefined, auth)).body.active, ['slow-db']);
      const off = await call(s.url, 'POST', '/_demo/fault', { fault: 'slow-db', on: false }, auth);
      assert.deepEqual(off.body.active, []);
      const bad = await call(s.url, 'POST', '/_demo/fault', { fault: 'meteor', on: true }, auth);
      assert.equal(bad.status, 400);
    });
  });
}

describe('fault switches without the demo', () => {
  test('the control endpoint does not exist without a demo token', async () => {
    const s = await STORES[0]!.start();
    try {
      assert.equal((await call(s.url, 'POST', '/_demo/fault', { fault: 'errors', on: true })).status, 404);
    } finally {
      await s.cleanup();
    }
  });

  test('listeners hear each real change once', () => {
    const f = new Faults();
    const heard: [string, boolean][] = [];
    f.onChange((n, on) => heard.push([n, on]));
    f.set('errors', true);
    f.set('errors', true);
    f.set('redis-down', true);
    f.set('errors', false);
    assert.deepEqual(heard, [
      ['errors', true],
      ['redis-down', true],
      ['errors', false],
    ]);
    assert.deepEqual(f.active(), ['redis-down']);
  });
});
