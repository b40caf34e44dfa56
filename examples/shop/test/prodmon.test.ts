/**
 * The shop with prodmon embedded: requests, queries and cache commands reach prodmon's metrics under
 * their route and database labels; failures and security events reach its logs; its routes answer
 * next to the shop's without being counted as shop traffic.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../../../test/support/services.js';
import { waitFor } from '../../../test/support/wait.js';
import { Faults } from '../src/faults.js';
import { prodmonTelemetry } from '../src/prodmon.js';
import { DEMO_USERS } from '../src/seed.js';
import { call, REDIS_URL, type Running, redisPrefix, STORES } from './support/shop.js';

const TOKEN = 'shop-test-admin-token-0123456789';

/** Prometheus sample value of `name{labels...}` (labels given as a substring list); 0 when absent. */
function sample(text: string, name: string, ...labels: string[]): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labels.every((l) => line.includes(l))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

for (const store of STORES) {
  describe(`prodmon embedded in the shop (${store.name})`, () => {
    let s: Running;
    const dir = tempDir('shop-prodmon-');
    const prefix = redisPrefix();
    let rolls = 0;
    before(async () => {
      s = await store.start({
        redisUrl: REDIS_URL,
        redisPrefix: prefix,
        // A loaded CI machine can take longer than the 250 ms production deadline; these tests are
        // about what is recorded, not about bypassing a slow Redis (cache.test.ts covers that).
        cacheCommandTimeoutMs: 2000,
        // Every other request fails while `errors` is on: the default Math.random left all six
        // requests of a test succeeding once in 64 runs.
        faults: new Faults({ errorRatio: 0.5, random: () => (++rolls % 2 === 0 ? 0.25 : 0.75) }),
        telemetry: prodmonTelemetry({
          dataDir: dir.path,
          config: {
            auth: { tokens: [{ name: 'ops', token: TOKEN, role: 'admin' }] },
            logs: { stdout: false },
            // The database and Redis checks count as slow past database_query_time's warning (100 ms by
            // default), which a loaded test machine reaches: these tests are about up and down, not speed.
            alerting: { thresholds: { database_query_time: { warning: 5000, critical: 10_000 } } },
          },
        }),
      });
      await s.shop.cache.waitUntilUp(5000);
    });
    after(async () => {
      await s.cleanup();
      dir.cleanup();
    });

    test('requests are recorded under their route templates, queries under the shop database', async () => {
      for (const id of [1, 2, 3]) assert.equal((await call(s.url, 'GET', `/api/products/${id}`)).status, 200);
      const cart = (await call(s.url, 'POST', '/api/carts')).body.id;
      await call(s.url, 'POST', `/api/carts/${cart}/items`, { product_id: 1, quantity: 1 });
      assert.equal((await call(s.url, 'POST', '/api/checkout', { cart_id: cart })).status, 201);
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      assert.equal(
        sample(metrics, 'prodmon_http_requests_total', 'route="/api/products/:id"', 'method="GET"'),
        3,
      );
      assert.equal(
        sample(metrics, 'prodmon_http_requests_total', 'route="/api/checkout"', 'status_class="2xx"'),
        1,
      );
      assert.equal(sample(metrics, 'prodmon_http_requests_total', 'route="/api/carts/:id/items"'), 1);
      assert.ok(
        sample(metrics, 'prodmon_db_query_duration_seconds_count', 'db="shop"', 'operation="select"') > 3,
      );
      assert.ok(
        sample(metrics, 'prodmon_db_query_duration_seconds_count', 'db="shop"', 'operation="update"') >= 1,
      );
      assert.ok(
        sample(metrics, 'prodmon_db_query_duration_seconds_count', 'db="shop"', 'operation="insert"') >= 2,
      );
      assert.ok(
        sample(metrics, 'prodmon_db_query_duration_seconds_count', 'db="redis"', 'operation="mget"') >= 3,
        'cache reads timed',
      );
      assert.ok(
        !/route="\/metrics"|route="\/health/.test(metrics),
        "prodmon's own routes are not shop traffic",
      );
    });

    test('failed requests count as errors of their route', async () => {
      s.shop.faults.set('errors', true);
      try {
        for (let i = 0; i < 6; i++) await call(s.url, 'GET', '/api/categories');
      } finally {
        s.shop.faults.set('errors', false);
      }
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      const errors = sample(metrics, 'prodmon_http_request_errors_total', 'route="/api/categories"');
      const total = sample(metrics, 'prodmon_http_requests_total', 'route="/api/categories"');
      assert.equal(total, 6);
      assert.equal(errors, 3, `${errors} errors of ${total}`);
      assert.equal(
        errors,
        sample(metrics, 'prodmon_http_requests_total', 'route="/api/categories"', 'status_class="5xx"'),
      );
    });

    test("prodmon's health endpoint answers on the shop's port; its detailed view needs the token", async () => {
      const h = await call(s.url, 'GET', '/health/');
      assert.equal(h.status, 200);
      assert.equal((await call(s.url, 'GET', '/health/live')).status, 200);
      const noToken = await call(s.url, 'GET', '/production/alerts/');
      assert.equal(noToken.status, 401);
    });

    test("the shop's database, Redis and inventory cache are prodmon health checks; a cache outage degrades", async () => {
      const auth = { authorization: `Bearer ${TOKEN}` };
      const checks = async () => {
        const r = await call(s.url, 'GET', '/production/health/detailed/?refresh=true', undefined, auth);
        assert.equal(r.status, 200);
        return {
          status: r.body.status as string,
          by: new Map<string, { kind: string; status: string; critical: boolean }>(
            r.body.checks.map((c: { name: string }) => [c.name, c]),
          ),
        };
      };
      const up = await checks();
      assert.equal(up.by.get('database')?.kind, store.name);
      assert.equal(up.by.get('database')?.status, 'healthy');
      assert.equal(up.by.get('redis')?.status, 'healthy');
      assert.equal(up.by.get('inventory-cache')?.status, 'healthy');
      s.shop.faults.set('redis-down', true);
      try {
        const down = await checks();
        assert.equal(down.by.get('inventory-cache')?.status, 'unhealthy');
        assert.equal(down.by.get('inventory-cache')?.critical, false);
        assert.notEqual(down.status, 'healthy');
        assert.equal((await call(s.url, 'GET', '/api/products/5')).status, 200, 'the shop still serves');
      } finally {
        s.shop.faults.set('redis-down', false);
      }
      await s.shop.cache.waitUntilUp(5000);
    });

    test('failed sign-ins are security events: past the threshold the failed_logins alert fires', async () => {
      for (let i = 0; i < 11; i++) {
        assert.equal(
          (await call(s.url, 'POST', '/api/login', { email: DEMO_USERS[0].email, password: `guess-${i}` }))
            .status,
          401,
        );
      }
      const auth = { authorization: `Bearer ${TOKEN}` };
      const alert = await waitFor(
        async () => {
          const r = await call(s.url, 'GET', '/production/alerts/?type=security', undefined, auth);
          return (r.body.alerts as { rule: string; status: string; type: string }[]).find(
            (a) => a.rule === 'failed_logins' && a.status === 'firing',
          );
        },
        { timeout: 20_000, interval: 100, what: 'failed_logins to fire' },
      );
      assert.equal(alert.type, 'security');
    });

    test('failed sign-ins and server errors reach the security and error logs, without the address', async () => {
      await call(s.url, 'POST', '/api/login', { email: DEMO_USERS[2].email, password: 'wrong' });
      s.shop.faults.set('errors', true);
      try {
        for (let i = 0; i < 6; i++) await call(s.url, 'GET', '/api/categories');
      } finally {
        s.shop.faults.set('errors', false);
      }
      const logger = s.shop.telemetry.logger as unknown as { flush(): Promise<void> };
      await logger.flush();
      const logs = join(dir.path, 'logs');
      const security = readFileSync(join(logs, 'security.log'), 'utf8');
      assert.match(security, /failed_login/);
      assert.match(security, /c\*\*\*@shop\.example/);
      assert.ok(!security.includes(DEMO_USERS[2].email));
      assert.match(readFileSync(join(logs, 'error.log'), 'utf8'), /injected/);
    });
  });
}
