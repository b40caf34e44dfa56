/** Carts: created anonymously or for a signed-in customer; lines of (product, quantity). */
import { randomUUID } from 'node:crypto';
import type { Queryable } from './db/types.js';
import { notFound, ShopError } from './errors.js';

/** Most of one product in a cart, and most lines in a cart. */
export const MAX_QUANTITY = 99;
export const MAX_LINES = 50;

/** A cart line as the API returns it. */
export interface CartLine {
  product_id: number;
  sku: string;
  name: string;
  price_cents: number;
  quantity: number;
  line_total_cents: number;
}

/** A cart with its lines and total. */
export interface Cart {
  id: string;
  status: 'open' | 'ordered';
  user_id: number | null;
  items: CartLine[];
  item_count: number;
  total_cents: number;
}

/** Creates an empty open cart. */
export async function createCart(db: Queryable, userId: number | null, now: number): Promise<string> {
  const id = randomUUID();
  await db.run('INSERT INTO carts (id, user_id, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?)', [
    id,
    userId,
    'open',
    now,
    now,
  ]);
  return id;
}

/** The cart's header row, or a 404. */
async function cartRow(
  db: Queryable,
  id: string,
): Promise<{ status: Cart['status']; user_id: number | null }> {
  const row = await db.get<{ status: Cart['status']; user_id: number | string | null }>(
    'SELECT status, user_id FROM carts WHERE id = ?',
    [id],
  );
  if (!row) throw notFound('cart', id);
  return { status: row.status, user_id: row.user_id === null ? null : Number(row.user_id) };
}

/** The cart with its lines priced at current prices. */
export async function getCart(db: Queryable, id: string): Promise<Cart> {
  const head = await cartRow(db, id);
  const rows = await db.all<Record<string, unknown>>(
    `SELECT ci.product_id, p.sku, p.name, p.price_cents, ci.quantity
       FROM cart_items ci JOIN products p ON p.id = ci.product_id
      WHERE ci.cart_id = ? ORDER BY ci.product_id`,
    [id],
  );
  const items = rows.map((r) => {
    const price = Number(r.price_cents);
    const quantity = Number(r.quantity);
    return {
      product_id: Number(r.product_id),
      sku: String(r.sku),
      name: String(r.name),
      price_cents: price,
      quantity,
      line_total_cents: price * quantity,
    };
  });
  return {
    id,
    status: head.status,
    user_id: head.user_id,
    items,
    item_count: items.reduce((n, i) => n + i.quantity, 0),
    total_cents: items.reduce((n, i) => n + i.line_total_cents, 0),
  };
}

async function openCart(db: Queryable, id: string): Promise<void> {
  const head = await cartRow(db, id);
  if (head.status !== 'open') throw new ShopError(409, 'cart_closed', `cart ${id} is already checked out`);
}

/** Adds `quantity` of a product (summed with what is there); the product must exist. */
export async function addItem(
  db: Queryable,
  cartId: string,
  productId: number,
  quantity: number,
  now: number,
): Promise<number> {
  await openCart(db, cartId);
  const product = await db.get('SELECT id FROM products WHERE id = ?', [productId]);
  if (!product) throw notFound('product', productId);
  const existing = await db.get<{ quantity: number | string }>(
    'SELECT quantity FROM cart_items WHERE cart_id = ? AND product_id = ?',
    [cartId, productId],
  );
  const total = Number(existing?.quantity ?? 0) + quantity;
  if (total > MAX_QUANTITY) {
    throw new ShopError(422, 'quantity_limit', `at most ${MAX_QUANTITY} of one product per cart`, {
      product_id: productId,
    });
  }
  if (!existing) {
    const lines = Number(
      (
        await db.get<{ n: number | string }>('SELECT count(*) AS n FROM cart_items WHERE cart_id = ?', [
          cartId,
        ])
      )?.n,
    );
    if (lines >= MAX_LINES)
      throw new ShopError(422, 'cart_full', `at most ${MAX_LINES} different products per cart`);
  }
  await db.run(
    `INSERT INTO cart_items (cart_id, product_id, quantity) VALUES (?, ?, ?)
     ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = cart_items.quantity + excluded.quantity`,
    [cartId, productId, quantity],
  );
  await db.run('UPDATE carts SET updated_at = ? WHERE id = ?', [now, cartId]);
  return total;
}

/** Sets a line's quantity; 0 removes the line. */
export async function setItemQuantity(
  db: Queryable,
  cartId: string,
  productId: number,
  quantity: number,
  now: number,
): Promise<void> {
  await openCart(db, cartId);
  if (quantity > MAX_QUANTITY) {
    throw new ShopError(422, 'quantity_limit', `at most ${MAX_QUANTITY} of one product per cart`, {
      product_id: productId,
    });
  }
  const r =
    quantity === 0
      ? await db.run('DELETE FROM cart_items WHERE cart_id = ? AND product_id = ?', [cartId, productId])
      : await db.run('UPDATE cart_items SET quantity = ? WHERE cart_id = ? AND product_id = ?', [
          quantity,
          cartId,
          productId,
        ]);
  if (r.changes === 0) throw notFound('cart line', productId);
  await db.run('UPDATE carts SET updated_at = ? WHERE id = ?', [now, cartId]);
}
