/**
 * The Redis inventory cache: read-through against the real Redis (own key prefix), and the fallback
 * when Redis dies, freezes or was never there, against a redis-server the test starts and kills.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient } from 'redis';
import { waitFor } from '../../../test/support/wait.js';
import { freePort, RedisServer } from './support/redis-server.js';
import { call, REDIS_URL, type Running, redisPrefix, STORES } from './support/shop.js';

const [SQLITE, POSTGRES] = STORES as [(typeof STORES)[0], (typeof STORES)[0]];

/** Deletes a test's keys from the shared Redis. */
async function dropKeys(prefix: string): Promise<void> {
  const c = createClient({ url: REDIS_URL });
  await c.connect();
  try {
    const keys = await c.keys(`${prefix}*`);
    if (keys.length) await c.del(keys);
  } finally {
    await c.close();
  }
}

describe('inventory cache on the shared Redis', () => {
  let s: Running;
  const prefix = redisPrefix();
  const redis = createClient({ url: REDIS_URL });
  before(async () => {
    await redis.connect();
    s = await POSTGRES.start({ redisUrl: REDIS_URL, redisPrefix: prefix });
    assert.ok(await s.shop.cache.waitUntilUp(5000));
  });
  after(async () => {
    await s.cleanup();
    await redis.close();
    await dropKeys(prefix);
  });

  test('a product read misses, fills the cache, then hits', async () => {
    const first = await call(s.url, 'GET', '/api/products/11');
    assert.equal(first.headers.get('x-cache'), 'miss');
    assert.equal(await redis.get(`${prefix}inv:11`), String(first.body.stock));
    assert.ok((await redis.ttl(`${prefix}inv:11`)) > 0, 'cached stock expires');
    const second = await call(s.url, 'GET', '/api/products/11');
    assert.equal(second.headers.get('x-cache'), 'hit');
    assert.equal(second.body.stock, first.body.stock);
  });

  test('the cached value is what the API shows, and checkout invalidates it', async () => {
    await s.shop.db.run('UPDATE products SET stock = 40 WHERE id = 12');
    await call(s.url, 'GET', '/api/products/12'); // fills 40
    await redis.set(`${prefix}inv:12`, '39'); // the cache is what is read
    assert.equal((await call(s.url, 'GET', '/api/products/12')).body.stock, 39);
    const cart = (await call(s.url, 'POST', '/api/carts')).body.id;
    await call(s.url, 'POST', `/api/carts/${cart}/items`, { product_id: 12, quantity: 2 });
    assert.equal((await call(s.url, 'POST', '/api/checkout', { cart_id: cart })).status, 201);
    assert.equal(await redis.get(`${prefix}inv:12`), null, 'checkout removed the stale entry');
    const after = await call(s.url, 'GET', '/api/products/12');
    assert.equal(after.headers.get('x-cache'), 'miss');
    assert.equal(after.body.stock, 38);
  });

  test('the cache health check reports the latency and the counters', async () => {
    const p = await s.shop.cache.ping();
    assert.ok(p.ok);
    assert.ok(s.shop.cache.stats.hits >= 2);
  });
});

describe('inventory cache when Redis fails', () => {
  let server: RedisServer;
  let s: Running;
  before(async () => {
    server = new RedisServer(await freePort());
    await server.start();
    s = await SQLITE.start({ redisUrl: server.url, redisPrefix: redisPrefix() });
    assert.ok(await s.shop.cache.waitUntilUp(5000));
  });
  after(async () => {
    server.freeze(false);
    await s.cleanup();
    await server.kill();
  });

  test('killed: requests are served from the database at once, and the cache comes back by itself', async () => {
    await call(s.url, 'GET', '/api/products/20');
    assert.equal((await call(s.url, 'GET', '/api/products/20')).headers.get('x-cache'), 'hit');
    await server.kill();
    await waitFor(() => s.shop.cache.state === 'down', { what: 'the cache notices' });
    const timeouts = s.shop.cache.stats.timeouts;
    const r = await call(s.url, 'GET', '/api/products/20');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-cache'), 'bypass');
    assert.equal(s.shop.cache.stats.timeouts, timeouts, 'served without waiting on a Redis command');
    // Checkout works without Redis too.
    const cart = (await call(s.url, 'POST', '/api/carts')).body.id;
    await call(s.url, 'POST', `/api/carts/${cart}/items`, { product_id: 20, quantity: 1 });
    assert.equal((await call(s.url, 'POST', '/api/checkout', { cart_id: cart })).status, 201);
    assert.equal((await s.shop.cache.ping()).ok, false);

    await server.start();
    await waitFor(() => s.shop.cache.state === 'up', {
      timeout: 15_000,
      what: 'the cache reconnects in the background',
    });
    assert.equal((await call(s.url, 'GET', '/api/products/20')).headers.get('x-cache'), 'miss');
    assert.equal((await call(s.url, 'GET', '/api/products/20')).headers.get('x-cache'), 'hit');
  });

  test('frozen (accepts, never answers): a request waits at most the command deadline, then bypasses', async () => {
    await waitFor(() => s.shop.cache.state === 'up', { what: 'the cache is up' });
    server.freeze(true);
    const timeouts = s.shop.cache.stats.timeouts;
    const t0 = performance.now();
    const r = await call(s.url, 'GET', '/api/products/21');
    const ms = performance.now() - t0;
    assert.equal(r.status, 200);
    // One missed deadline (250 ms) and the connection is dropped: the rest of the request bypasses the
    // cache. The wall time is only bounded, with a wide margin (a loaded machine runs the suite too).
    assert.equal(s.shop.cache.stats.timeouts, timeouts + 1, 'one command deadline waited');
    assert.ok(ms < 20 * 250, `answered in ${ms.toFixed(0)} ms with a frozen Redis`);
    assert.equal((await call(s.url, 'GET', '/api/products/21')).headers.get('x-cache'), 'bypass');
    assert.equal(
      s.shop.cache.stats.timeouts,
      timeouts + 1,
      'after a missed deadline the cache is skipped, not waited on',
    );
    server.freeze(false);
    await waitFor(() => s.shop.cache.state === 'up', {
      timeout: 15_000,
      what: 'the cache recovers after the freeze',
    });
  });
});

describe('inventory cache without Redis', () => {
  test('a shop whose Redis is not there starts at once and serves from the database', async () => {
    const port = await freePort(); // nothing listens here
    const s = await SQLITE.start({ redisUrl: `redis://127.0.0.1:${port}`, redisPrefix: redisPrefix() });
    try {
      const r = await call(s.url, 'GET', '/api/products/1');
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-cache'), 'bypass');
      assert.equal(s.shop.cache.state, 'down');
      assert.match(s.shop.cache.reason ?? '', /ECONNREFUSED|closed|connect/i);
    } finally {
      await s.cleanup();
    }
  });

  test('the redis-down fault takes the cache out until it is switched off', async () => {
    const prefix = redisPrefix();
    const s = await SQLITE.start({ redisUrl: REDIS_URL, redisPrefix: prefix });
    try {
      assert.ok(await s.shop.cache.waitUntilUp(5000));
      s.shop.faults.set('redis-down', true);
      assert.equal(s.shop.cache.state, 'down');
      assert.equal((await call(s.url, 'GET', '/api/products/2')).headers.get('x-cache'), 'bypass');
      // Nothing can bring it back while the fault is on: no connection, none being made, none scheduled.
      assert.equal(s.shop.cache.connecting, false, 'no reconnection while the fault is on');
      assert.equal((await call(s.url, 'GET', '/api/products/3')).headers.get('x-cache'), 'bypass');
      s.shop.faults.set('redis-down', false);
      assert.ok(await s.shop.cache.waitUntilUp(5000));
      assert.equal((await call(s.url, 'GET', '/api/products/2')).headers.get('x-cache'), 'miss');
    } finally {
      await s.cleanup();
      await dropKeys(prefix);
    }
  });
});
