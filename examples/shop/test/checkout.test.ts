/** Carts, checkout (one transaction, all or nothing), orders and sign-in, on real SQLite and PostgreSQL. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEMO_PASSWORD, DEMO_USERS } from '../src/seed.js';
import { noTelemetry, type SecurityEvent } from '../src/telemetry.js';
import { call, type Running, STORES } from './support/shop.js';

for (const store of STORES) {
  describe(`carts and checkout (${store.name})`, () => {
    let s: Running;
    const security: SecurityEvent[] = [];
    before(async () => {
      const t = noTelemetry();
      s = await store.start({ telemetry: { ...t, security: (e) => security.push(e) } });
    });
    after(() => s.cleanup());

    const stockOf = async (id: number) =>
      Number(
        (await s.shop.db.get<{ stock: number }>('SELECT stock FROM products WHERE id = ?', [id]))!.stock,
      );
    const setStock = (id: number, n: number) =>
      s.shop.db.run('UPDATE products SET stock = ? WHERE id = ?', [n, id]);
    const newCart = async (headers: Record<string, string> = {}) => {
      const r = await call(s.url, 'POST', '/api/carts', undefined, headers);
      assert.equal(r.status, 201);
      return r.body.id as string;
    };
    const add = (cart: string, product_id: number, quantity = 1, headers: Record<string, string> = {}) =>
      call(s.url, 'POST', `/api/carts/${cart}/items`, { product_id, quantity }, headers);
    const countOrders = async () =>
      Number((await s.shop.db.get<{ n: number }>('SELECT count(*) AS n FROM orders'))!.n);

    test('adding the same product twice sums the quantity; the total follows the prices', async () => {
      const cart = await newCart();
      await setStock(1, 50);
      await setStock(2, 50);
      assert.equal((await add(cart, 1, 2)).status, 201);
      assert.equal((await add(cart, 1, 3)).status, 201);
      const r = await add(cart, 2, 1);
      const p1 = (await call(s.url, 'GET', '/api/products/1')).body;
      const p2 = (await call(s.url, 'GET', '/api/products/2')).body;
      assert.deepEqual(
        r.body.items.map((i: { product_id: number; quantity: number }) => [i.product_id, i.quantity]),
        [
          [1, 5],
          [2, 1],
        ],
      );
      assert.equal(r.body.total_cents, 5 * p1.price_cents + p2.price_cents);
      assert.equal(r.body.item_count, 6);
    });

    test('a line can be changed and removed; removing a line that is not there is 404', async () => {
      const cart = await newCart();
      await setStock(3, 50);
      await add(cart, 3, 4);
      const changed = await call(s.url, 'PUT', `/api/carts/${cart}/items/3`, { quantity: 2 });
      assert.equal(changed.status, 200);
      assert.equal(changed.body.items[0].quantity, 2);
      const removed = await call(s.url, 'DELETE', `/api/carts/${cart}/items/3`);
      assert.deepEqual(removed.body.items, []);
      assert.equal((await call(s.url, 'DELETE', `/api/carts/${cart}/items/3`)).status, 404);
    });

    test('adding more than is in stock is refused with what is available', async () => {
      const cart = await newCart();
      await setStock(4, 2);
      const r = await add(cart, 4, 3);
      assert.equal(r.status, 409);
      assert.equal(r.body.error.code, 'out_of_stock');
      assert.equal(r.body.error.available, 2);
      assert.equal((await call(s.url, 'GET', `/api/carts/${cart}`)).body.items.length, 0);
      assert.equal((await add(cart, 999999)).status, 404);
      assert.equal((await add('not-a-uuid', 4)).status, 400);
      assert.equal((await add(cart, 4, 0)).status, 400);
    });

    test('checkout takes the stock, writes the order and closes the cart', async () => {
      await setStock(5, 10);
      await setStock(6, 10);
      const cart = await newCart();
      await add(cart, 5, 3);
      await add(cart, 6, 1);
      const before = await countOrders();
      const r = await call(s.url, 'POST', '/api/checkout', { cart_id: cart, email: 'Guest@Example.COM' });
      assert.equal(r.status, 201);
      assert.equal(r.body.status, 'placed');
      assert.equal(r.body.email, 'guest@example.com');
      assert.deepEqual(
        r.body.items.map((i: { product_id: number; quantity: number }) => [i.product_id, i.quantity]),
        [
          [5, 3],
          [6, 1],
        ],
      );
      assert.equal(await stockOf(5), 7);
      assert.equal(await stockOf(6), 9);
      assert.equal(await countOrders(), before + 1);
      const order = await call(s.url, 'GET', `/api/orders/${r.body.id}`);
      assert.deepEqual(order.body, r.body);
      const again = await call(s.url, 'POST', '/api/checkout', { cart_id: cart });
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'cart_closed');
      assert.equal((await add(cart, 5)).status, 409, 'a checked-out cart takes no more items');
      assert.equal(await stockOf(5), 7);
    });

    test('one line out of stock rolls the whole checkout back: no stock taken, no order, cart still open', async () => {
      await setStock(7, 10);
      await setStock(8, 5);
      const cart = await newCart();
      await add(cart, 7, 2);
      await add(cart, 8, 5);
      await setStock(8, 4); // someone else bought one meanwhile
      const before = await countOrders();
      const r = await call(s.url, 'POST', '/api/checkout', { cart_id: cart });
      assert.equal(r.status, 409);
      assert.equal(r.body.error.code, 'out_of_stock');
      assert.equal(r.body.error.product_id, 8);
      assert.equal(r.body.error.requested, 5);
      assert.equal(r.body.error.available, 4);
      assert.equal(await stockOf(7), 10, 'the first line was taken, then rolled back');
      assert.equal(await stockOf(8), 4);
      assert.equal(await countOrders(), before);
      const cartNow = await call(s.url, 'GET', `/api/carts/${cart}`);
      assert.equal(cartNow.body.status, 'open');
      // The customer fixes the cart and buys.
      await call(s.url, 'PUT', `/api/carts/${cart}/items/8`, { quantity: 4 });
      const ok = await call(s.url, 'POST', '/api/checkout', { cart_id: cart });
      assert.equal(ok.status, 201);
      assert.equal(await stockOf(7), 8);
      assert.equal(await stockOf(8), 0);
    });

    test('concurrent checkouts never sell more than the stock', async () => {
      await setStock(9, 3);
      const carts = await Promise.all(Array.from({ length: 8 }, () => newCart()));
      for (const c of carts) assert.equal((await add(c, 9, 1)).status, 201);
      const results = await Promise.all(
        carts.map((c) => call(s.url, 'POST', '/api/checkout', { cart_id: c })),
      );
      const statuses = results.map((r) => r.status).sort();
      assert.deepEqual(statuses, [201, 201, 201, 409, 409, 409, 409, 409]);
      assert.equal(await stockOf(9), 0);
    });

    test('an empty cart cannot be checked out; an unknown cart is 404', async () => {
      const cart = await newCart();
      const r = await call(s.url, 'POST', '/api/checkout', { cart_id: cart });
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, 'empty_cart');
      assert.equal((await call(s.url, 'GET', `/api/carts/${cart}`)).body.status, 'open');
      const unknown = await call(s.url, 'POST', '/api/checkout', {
        cart_id: '00000000-0000-4000-8000-000000000000',
      });
      assert.equal(unknown.status, 404);
    });

    test('sign-in: a good password opens a session, a bad one is 401 and a security event', async () => {
      const user = DEMO_USERS[0];
      const bad = await call(s.url, 'POST', '/api/login', { email: user.email, password: 'guess' });
      assert.equal(bad.status, 401);
      assert.equal(bad.body.error.code, 'invalid_credentials');
      const unknown = await call(s.url, 'POST', '/api/login', {
        email: 'nobody@shop.example',
        password: 'x',
      });
      assert.equal(unknown.status, 401);
      assert.deepEqual(unknown.body, bad.body, 'unknown account and wrong password look the same');
      assert.deepEqual(
        security.map((e) => [e.type, e.user, e.reason]),
        [
          ['failed_login', 'a***@shop.example', 'wrong_password'],
          ['failed_login', 'n***@shop.example', 'unknown_email'],
        ],
      );
      assert.ok(!JSON.stringify(security).includes(user.email), 'no full address in security events');
      const ok = await call(s.url, 'POST', '/api/login', {
        email: user.email.toUpperCase(),
        password: DEMO_PASSWORD,
      });
      assert.equal(ok.status, 200);
      const auth = { authorization: `Bearer ${ok.body.token}` };
      const me = await call(s.url, 'GET', '/api/me', undefined, auth);
      assert.equal(me.body.email, user.email);
      assert.equal((await call(s.url, 'GET', '/api/me')).status, 401);
      assert.equal((await call(s.url, 'POST', '/api/logout', undefined, auth)).status, 204);
      assert.equal((await call(s.url, 'GET', '/api/me', undefined, auth)).status, 401);
    });

    test("a signed-in customer's cart and order are invisible to others", async () => {
      const ok = await call(s.url, 'POST', '/api/login', {
        email: DEMO_USERS[1].email,
        password: DEMO_PASSWORD,
      });
      const auth = { authorization: `Bearer ${ok.body.token}` };
      await setStock(10, 10);
      const cart = await newCart(auth);
      assert.equal((await add(cart, 10, 1, auth)).status, 201);
      assert.equal((await call(s.url, 'GET', `/api/carts/${cart}`)).status, 404);
      assert.equal((await add(cart, 10, 1)).status, 404);
      const order = await call(s.url, 'POST', '/api/checkout', { cart_id: cart }, auth);
      assert.equal(order.status, 201);
      assert.equal(order.body.email, DEMO_USERS[1].email);
      assert.equal((await call(s.url, 'GET', `/api/orders/${order.body.id}`)).status, 404);
      assert.equal((await call(s.url, 'GET', `/api/orders/${order.body.id}`, undefined, auth)).status, 200);
    });

    test('malformed JSON is a 400, an unknown path a 404', async () => {
      const res = await fetch(`${s.url}/api/checkout`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"cart_id":',
      });
      assert.equal(res.status, 400);
      assert.equal((await call(s.url, 'GET', '/api/nope')).status, 404);
    });
  });
}
