/** Deterministic seed data: a catalogue of a few hundred products and a few customer accounts. */

import type { ShopDb } from './db/types.js';
import { hashPassword } from './passwords.js';

/** The seeded accounts' password (a demo shop: documented, never use it elsewhere). */
export const DEMO_PASSWORD = 'demo-shop-password';

/** Seeded customers (all with {@link DEMO_PASSWORD}). */
export const DEMO_USERS = [
  { email: 'alice@shop.example', name: 'Alice Martin' },
  { email: 'bob@shop.example', name: 'Bob Okafor' },
  { email: 'carol@shop.example', name: 'Carol Nguyen' },
] as const;

const CATEGORIES: Record<string, { nouns: string[]; base: number }> = {
  kitchen: {
    nouns: ['Kettle', 'Chef Knife', 'Cutting Board', 'Saucepan', 'Espresso Cup', 'Spice Rack'],
    base: 1800,
  },
  office: {
    nouns: ['Desk Lamp', 'Notebook', 'Fountain Pen', 'Monitor Stand', 'Desk Mat', 'Stapler'],
    base: 1200,
  },
  garden: {
    nouns: ['Trowel', 'Watering Can', 'Planter', 'Pruning Shears', 'Seed Tray', 'Hose Reel'],
    base: 1500,
  },
  outdoor: {
    nouns: ['Tent', 'Sleeping Bag', 'Headlamp', 'Camp Stove', 'Water Bottle', 'Daypack'],
    base: 3500,
  },
  audio: { nouns: ['Headphones', 'Speaker', 'Turntable', 'Microphone', 'Earbuds', 'Amplifier'], base: 6000 },
  apparel: { nouns: ['Rain Jacket', 'Wool Socks', 'Beanie', 'Scarf', 'Flannel Shirt', 'Gloves'], base: 2500 },
  toys: { nouns: ['Puzzle', 'Kite', 'Building Set', 'Yo-yo', 'Board Game', 'Plush Fox'], base: 1400 },
  books: { nouns: ['Cookbook', 'Atlas', 'Field Guide', 'Sketchbook', 'Novel', 'Journal'], base: 1600 },
};
const ADJECTIVES = ['Walnut', 'Copper', 'Compact', 'Classic', 'Nordic', 'Rugged', 'Recycled', 'Midnight'];

/** A small deterministic PRNG (mulberry32), so every seeded shop has the same catalogue. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One seeded product, before insertion. */
export interface SeedProduct {
  sku: string;
  name: string;
  description: string;
  category: string;
  price_cents: number;
  stock: number;
}

/** The catalogue: every (adjective, noun) of every category, `count` at most (384 in all). */
export function seedProducts(count = 384): SeedProduct[] {
  const rand = prng(42);
  const out: SeedProduct[] = [];
  for (const adjective of ADJECTIVES) {
    for (const [category, { nouns, base }] of Object.entries(CATEGORIES)) {
      for (const noun of nouns) {
        if (out.length >= count) return out;
        const n = out.length + 1;
        const price = Math.round((base * (0.5 + rand() * 1.5)) / 10) * 10 - 1;
        out.push({
          sku: `${category.slice(0, 3).toUpperCase()}-${String(n).padStart(4, '0')}`,
          name: `${adjective} ${noun}`,
          description: `A ${adjective.toLowerCase()} ${noun.toLowerCase()} from our ${category} range.`,
          category,
          price_cents: price,
          // A few items are rare, so carts meet "out of stock" under load.
          stock: rand() < 0.05 ? Math.floor(rand() * 3) : 20 + Math.floor(rand() * 200),
        });
      }
    }
  }
  return out;
}

/** Inserts the catalogue and the demo accounts into an empty database; returns the products added (0: already seeded). */
export async function seed(db: ShopDb, opts: { products?: number; now: number }): Promise<number> {
  const has = await db.get<{ n: number | string }>('SELECT count(*) AS n FROM products');
  if (Number(has?.n ?? 0) > 0) return 0;
  const products = seedProducts(opts.products);
  const hashes = await Promise.all(DEMO_USERS.map(() => hashPassword(DEMO_PASSWORD)));
  await db.transaction(async (tx) => {
    for (const p of products) {
      await tx.run(
        'INSERT INTO products (sku, name, description, category, price_cents, stock, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sku) DO NOTHING',
        [p.sku, p.name, p.description, p.category, p.price_cents, p.stock, opts.now],
      );
    }
    for (const [i, u] of DEMO_USERS.entries()) {
      await tx.run(
        'INSERT INTO users (email, name, password_hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (email) DO NOTHING',
        [u.email, u.name, hashes[i]!, opts.now],
      );
    }
  });
  return products.length;
}
