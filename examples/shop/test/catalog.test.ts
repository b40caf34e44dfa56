/** The catalogue API against real SQLite and real PostgreSQL: search, filters, sorting, pagination. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { seedProducts } from '../src/seed.js';
import { call, type Running, STORES } from './support/shop.js';

const CATALOGUE = seedProducts();

for (const store of STORES) {
  describe(`catalogue (${store.name})`, () => {
    let s: Running;
    before(async () => {
      s = await store.start();
    });
    after(() => s.cleanup());

    test('the seeded catalogue has a few hundred products, 20 per page by default', async () => {
      const r = await call(s.url, 'GET', '/api/products');
      assert.equal(r.status, 200);
      assert.equal(r.body.total, CATALOGUE.length);
      assert.ok(CATALOGUE.length >= 300);
      assert.equal(r.body.items.length, 20);
      assert.equal(r.body.page, 1);
      assert.equal(r.body.total_pages, Math.ceil(CATALOGUE.length / 20));
    });

    test('pages partition the result: no product twice, none missing, past the end is empty', async () => {
      const seen = new Set<number>();
      let pages = 0;
      for (let page = 1; ; page++) {
        const r = await call(s.url, 'GET', `/api/products?per_page=100&page=${page}&sort=price`);
        assert.equal(r.status, 200);
        if (r.body.items.length === 0) {
          assert.equal(page, r.body.total_pages + 1);
          break;
        }
        pages++;
        for (const p of r.body.items) {
          assert.ok(!seen.has(p.id), `product ${p.id} on two pages`);
          seen.add(p.id);
        }
      }
      assert.equal(seen.size, CATALOGUE.length);
      assert.equal(pages, Math.ceil(CATALOGUE.length / 100));
    });

    test('sorting by price is ascending, -price descending', async () => {
      const up = (await call(s.url, 'GET', '/api/products?sort=price&per_page=50')).body.items.map(
        (p: { price_cents: number; sku: string }) => p.price_cents,
      );
      const down = (await call(s.url, 'GET', '/api/products?sort=-price&per_page=50')).body.items.map(
        (p: { price_cents: number; sku: string }) => p.price_cents,
      );
      assert.deepEqual(
        up,
        [...up].sort((a, b) => a - b),
      );
      assert.deepEqual(
        down,
        [...down].sort((a, b) => b - a),
      );
      const prices = CATALOGUE.map((p) => p.price_cents);
      assert.equal(up[0], Math.min(...prices));
      assert.equal(down[0], Math.max(...prices));
    });

    test('search matches every word, case-insensitively, in name, description or SKU', async () => {
      const expected = CATALOGUE.filter(
        (p) => /walnut/i.test(p.name + p.description) && /lamp/i.test(p.name + p.description),
      );
      const r = await call(s.url, 'GET', '/api/products?q=WALNUT%20lamp&per_page=100');
      assert.equal(r.status, 200);
      assert.equal(r.body.total, expected.length);
      assert.ok(expected.length > 0);
      assert.deepEqual(
        r.body.items.map((p: { price_cents: number; sku: string }) => p.sku).sort(),
        expected.map((p) => p.sku).sort(),
      );
      const bySku = await call(s.url, 'GET', `/api/products?q=${CATALOGUE[7]!.sku.toLowerCase()}`);
      assert.equal(bySku.body.total, 1);
      assert.equal(bySku.body.items[0].name, CATALOGUE[7]!.name);
    });

    test('LIKE wildcards in the search are literal characters', async () => {
      const r = await call(s.url, 'GET', '/api/products?q=%25');
      assert.equal(r.status, 200);
      assert.equal(r.body.total, 0);
      const u = await call(s.url, 'GET', '/api/products?q=_');
      assert.equal(u.body.total, 0);
    });

    test('category and price filters combine with search', async () => {
      const expected = CATALOGUE.filter(
        (p) => p.category === 'audio' && p.price_cents >= 5000 && p.price_cents <= 9000,
      );
      const r = await call(
        s.url,
        'GET',
        '/api/products?category=audio&min_price_cents=5000&max_price_cents=9000&per_page=100',
      );
      assert.equal(r.body.total, expected.length);
      for (const p of r.body.items) {
        assert.equal(p.category, 'audio');
        assert.ok(p.price_cents >= 5000 && p.price_cents <= 9000);
      }
      const inStock = await call(s.url, 'GET', '/api/products?in_stock=true&per_page=1');
      assert.equal(inStock.body.total, CATALOGUE.filter((p) => p.stock > 0).length);
    });

    test('categories list every category with its count', async () => {
      const r = await call(s.url, 'GET', '/api/categories');
      const counts = new Map<string, number>();
      for (const p of CATALOGUE) counts.set(p.category, (counts.get(p.category) ?? 0) + 1);
      assert.deepEqual(
        r.body.items,
        [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([name, products]) => ({ name, products })),
      );
    });

    test('a product by id; an unknown id is 404, a malformed one 400', async () => {
      const list = await call(s.url, 'GET', '/api/products?sort=name&per_page=1');
      const first = list.body.items[0];
      const r = await call(s.url, 'GET', `/api/products/${first.id}`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, first);
      assert.equal(r.headers.get('x-cache'), 'bypass', 'no Redis configured: straight to the database');
      assert.equal((await call(s.url, 'GET', '/api/products/999999')).status, 404);
      const bad = await call(s.url, 'GET', '/api/products/abc');
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'bad_request');
    });

    test('bad query parameters are a 400 naming the field', async () => {
      const r = await call(s.url, 'GET', '/api/products?per_page=1000&sort=random');
      assert.equal(r.status, 400);
      assert.match(r.body.error.message, /per_page/);
      assert.match(r.body.error.message, /sort/);
    });
  });
}
