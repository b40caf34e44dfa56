/** The demo's traffic generator: a realistic mix, bounded, loopback only. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { prng } from '../src/seed.js';
import { runTraffic } from '../src/traffic.js';
import { type Running, STORES } from './support/shop.js';

describe('traffic generator', () => {
  let s: Running;
  before(async () => {
    s = await STORES[0]!.start();
  });
  after(() => s.cleanup());

  test('browses, searches, views, fills carts, checks out and fails some sign-ins, without server errors', async () => {
    const stats = await runTraffic({
      baseUrl: s.url,
      concurrency: 4,
      durationMs: 4000,
      thinkMs: 2,
      random: prng(7),
      failedLoginShare: 0.2,
    });
    for (const step of ['browse', 'search', 'product', 'cart', 'add', 'checkout', 'login']) {
      assert.ok((stats.bySteps[step] ?? 0) > 0, `no ${step} step in ${JSON.stringify(stats.bySteps)}`);
    }
    assert.ok(stats.orders > 0);
    assert.equal(stats.byStatus['500'] ?? 0, 0);
    assert.equal(stats.byStatus.network ?? 0, 0);
    assert.ok((stats.byStatus['401'] ?? 0) > 0, 'failed sign-ins');
    const orders = Number((await s.shop.db.get<{ n: number }>('SELECT count(*) AS n FROM orders'))!.n);
    assert.equal(orders, stats.orders);
  });

  test('stops at the request budget', async () => {
    const stats = await runTraffic({
      baseUrl: s.url,
      concurrency: 3,
      durationMs: 30_000,
      maxRequests: 25,
      thinkMs: 1,
    });
    assert.equal(stats.requests, 25);
    assert.ok(stats.elapsedMs < 30_000);
  });

  test('stops at the deadline', async () => {
    const stats = await runTraffic({ baseUrl: s.url, concurrency: 2, durationMs: 300, thinkMs: 1 });
    assert.ok(stats.elapsedMs < 2000, `took ${stats.elapsedMs} ms`);
    assert.ok(stats.requests > 0);
  });

  test('refuses to send traffic anywhere but this machine', async () => {
    await assert.rejects(
      runTraffic({ baseUrl: 'http://example.com', durationMs: 10 }),
      /only sent to this machine/,
    );
  });
});
