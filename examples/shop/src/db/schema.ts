/** The shop's tables, in each dialect. Prices are integer cents; times are epoch milliseconds. */
import type { Dialect, ShopDb } from './types.js';

const id = { sqlite: 'INTEGER PRIMARY KEY', postgres: 'BIGSERIAL PRIMARY KEY' } as const;
const int = { sqlite: 'INTEGER', postgres: 'BIGINT' } as const;

/** The DDL of every table and index, idempotent. */
export function schemaSql(d: Dialect): string {
  return `
CREATE TABLE IF NOT EXISTS products (
  id ${id[d]},
  sku TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  category TEXT NOT NULL,
  price_cents ${int[d]} NOT NULL CHECK (price_cents >= 0),
  stock ${int[d]} NOT NULL CHECK (stock >= 0),
  created_at ${int[d]} NOT NULL
);
CREATE INDEX IF NOT EXISTS products_category_idx ON products (category, id);
CREATE INDEX IF NOT EXISTS products_price_idx ON products (price_cents, id);
CREATE TABLE IF NOT EXISTS users (
  id ${id[d]},
  email TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at ${int[d]} NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
  token_hash TEXT PRIMARY KEY,
  user_id ${int[d]} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  expires_at ${int[d]} NOT NULL
);
CREATE TABLE IF NOT EXISTS carts (
  id TEXT PRIMARY KEY,
  user_id ${int[d]} REFERENCES users (id) ON DELETE SET NULL,
  status TEXT NOT NULL DEFAULT 'open',
  created_at ${int[d]} NOT NULL,
  updated_at ${int[d]} NOT NULL
);
CREATE TABLE IF NOT EXISTS cart_items (
  cart_id TEXT NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
  product_id ${int[d]} NOT NULL REFERENCES products (id),
  quantity ${int[d]} NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (cart_id, product_id)
);
CREATE TABLE IF NOT EXISTS orders (
  id TEXT PRIMARY KEY,
  cart_id TEXT NOT NULL UNIQUE REFERENCES carts (id),
  user_id ${int[d]} REFERENCES users (id) ON DELETE SET NULL,
  email TEXT,
  total_cents ${int[d]} NOT NULL,
  status TEXT NOT NULL,
  created_at ${int[d]} NOT NULL
);
CREATE TABLE IF NOT EXISTS order_items (
  order_id TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  product_id ${int[d]} NOT NULL REFERENCES products (id),
  quantity ${int[d]} NOT NULL CHECK (quantity > 0),
  price_cents ${int[d]} NOT NULL,
  PRIMARY KEY (order_id, product_id)
);`;
}

/** Creates the tables if they are missing. */
export async function migrate(db: ShopDb): Promise<void> {
  await db.exec(schemaSql(db.dialect));
}
