/**
 * Checkout: in one transaction, claim the cart, take every line's stock (all or nothing), and write the
 * order. A line that cannot be served rolls everything back and names the product.
 */
import { randomUUID } from 'node:crypto';
import type { ShopDb } from './db/types.js';
import { notFound, ShopError } from './errors.js';

/** An order as the API returns it. */
export interface Order {
  id: string;
  cart_id: string;
  user_id: number | null;
  email: string | null;
  status: 'placed';
  total_cents: number;
  created_at: number;
  items: { product_id: number; quantity: number; price_cents: number }[];
}

/** Who is buying. */
export interface CheckoutInput {
  cartId: string;
  userId: number | null;
  email: string | null;
  now: number;
}

/** Places the order; throws a ShopError (404, 409 cart_closed, 400 empty_cart, 409 out_of_stock). */
export async function checkout(db: ShopDb, input: CheckoutInput): Promise<Order> {
  return db.transaction(async (tx) => {
    const claimed = await tx.run(
      "UPDATE carts SET status = 'ordered', updated_at = ? WHERE id = ? AND status = 'open'",
      [input.now, input.cartId],
    );
    if (claimed.changes === 0) {
      const exists = await tx.get('SELECT id FROM carts WHERE id = ?', [input.cartId]);
      if (!exists) throw notFound('cart', input.cartId);
      throw new ShopError(409, 'cart_closed', `cart ${input.cartId} is already checked out`);
    }
    // Product order is the lock order: two checkouts never wait on each other in a cycle.
    const lines = (
      await tx.all<Record<string, unknown>>(
        `SELECT ci.product_id, ci.quantity, p.price_cents
           FROM cart_items ci JOIN products p ON p.id = ci.product_id
          WHERE ci.cart_id = ? ORDER BY ci.product_id`,
        [input.cartId],
      )
    ).map((r) => ({
      product_id: Number(r.product_id),
      quantity: Number(r.quantity),
      price_cents: Number(r.price_cents),
    }));
    if (lines.length === 0) throw new ShopError(400, 'empty_cart', 'the cart is empty');
    for (const line of lines) {
      const taken = await tx.run('UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ?', [
        line.quantity,
        line.product_id,
        line.quantity,
      ]);
      if (taken.changes === 0) {
        const row = await tx.get<{ stock: number | string }>('SELECT stock FROM products WHERE id = ?', [
          line.product_id,
        ]);
        throw new ShopError(409, 'out_of_stock', `not enough stock of product ${line.product_id}`, {
          product_id: line.product_id,
          requested: line.quantity,
          available: Number(row?.stock ?? 0),
        });
      }
    }
    const total = lines.reduce((n, l) => n + l.quantity * l.price_cents, 0);
    const id = randomUUID();
    await tx.run(
      'INSERT INTO orders (id, cart_id, user_id, email, total_cents, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [id, input.cartId, input.userId, input.email, total, 'placed', input.now],
    );
    for (const l of lines) {
      await tx.run(
        'INSERT INTO order_items (order_id, product_id, quantity, price_cents) VALUES (?, ?, ?, ?)',
        [id, l.product_id, l.quantity, l.price_cents],
      );
    }
    return {
      id,
      cart_id: input.cartId,
      user_id: input.userId,
      email: input.email,
      status: 'placed' as const,
      total_cents: total,
      created_at: input.now,
      items: lines,
    };
  });
}

/** An order with its lines, or a 404. */
export async function getOrder(db: ShopDb, id: string): Promise<Order> {
  const row = await db.get<Record<string, unknown>>(
    'SELECT id, cart_id, user_id, email, total_cents, status, created_at FROM orders WHERE id = ?',
    [id],
  );
  if (!row) throw notFound('order', id);
  const items = await db.all<Record<string, unknown>>(
    'SELECT product_id, quantity, price_cents FROM order_items WHERE order_id = ? ORDER BY product_id',
    [id],
  );
  return {
    id: String(row.id),
    cart_id: String(row.cart_id),
    user_id: row.user_id === null ? null : Number(row.user_id),
    email: row.email === null ? null : String(row.email),
    status: 'placed',
    total_cents: Number(row.total_cents),
    created_at: Number(row.created_at),
    items: items.map((r) => ({
      product_id: Number(r.product_id),
      quantity: Number(r.quantity),
      price_cents: Number(r.price_cents),
    })),
  };
}
