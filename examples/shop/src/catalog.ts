/** The catalogue: product search with filters, sorting and pagination; single products; categories. */
import type { Queryable } from './db/types.js';
import { notFound } from './errors.js';

/** A product as the API returns it. */
export interface Product {
  id: number;
  sku: string;
  name: string;
  description: string;
  category: string;
  price_cents: number;
  stock: number;
}

/** How the product list is sorted. */
export const SORTS = {
  name: 'name ASC, id ASC',
  price: 'price_cents ASC, id ASC',
  '-price': 'price_cents DESC, id ASC',
  newest: 'created_at DESC, id DESC',
} as const;
export type Sort = keyof typeof SORTS;

/** A search: every field optional. */
export interface ProductQuery {
  /** Words matched (case-insensitively) in the name, description or SKU. */
  q?: string;
  category?: string;
  minPriceCents?: number;
  maxPriceCents?: number;
  inStock?: boolean;
  sort?: Sort;
  page: number;
  perPage: number;
}

/** One page of results. */
export interface ProductPage {
  items: Product[];
  page: number;
  per_page: number;
  total: number;
  total_pages: number;
}

const COLUMNS = 'id, sku, name, description, category, price_cents, stock';

/** Escapes LIKE wildcards in user input (used with `ESCAPE '\\'`). */
export function likePattern(word: string): string {
  return `%${word.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Numbers come back as strings from PostgreSQL's BIGINT: normalize a row. */
export function toProduct(r: Record<string, unknown>): Product {
  return {
    id: Number(r.id),
    sku: String(r.sku),
    name: String(r.name),
    description: String(r.description),
    category: String(r.category),
    price_cents: Number(r.price_cents),
    stock: Number(r.stock),
  };
}

/** Products matching `query`, one page of them, with the total count. */
export async function searchProducts(db: Queryable, query: ProductQuery): Promise<ProductPage> {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const words = (query.q ?? '').trim().split(/\s+/).filter(Boolean).slice(0, 8);
  for (const w of words) {
    where.push(
      "(lower(name) LIKE ? ESCAPE '\\' OR lower(description) LIKE ? ESCAPE '\\' OR lower(sku) LIKE ? ESCAPE '\\')",
    );
    const p = likePattern(w);
    params.push(p, p, p);
  }
  if (query.category) {
    where.push('category = ?');
    params.push(query.category);
  }
  if (query.minPriceCents !== undefined) {
    where.push('price_cents >= ?');
    params.push(query.minPriceCents);
  }
  if (query.maxPriceCents !== undefined) {
    where.push('price_cents <= ?');
    params.push(query.maxPriceCents);
  }
  if (query.inStock) where.push('stock > 0');
  const cond = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = Number(
    (await db.get<{ n: number | string }>(`SELECT count(*) AS n FROM products ${cond}`, params))?.n ?? 0,
  );
  const offset = (query.page - 1) * query.perPage;
  const rows =
    offset < total
      ? await db.all<Record<string, unknown>>(
          `SELECT ${COLUMNS} FROM products ${cond} ORDER BY ${SORTS[query.sort ?? 'name']} LIMIT ? OFFSET ?`,
          [...params, query.perPage, offset],
        )
      : [];
  return {
    items: rows.map(toProduct),
    page: query.page,
    per_page: query.perPage,
    total,
    total_pages: Math.ceil(total / query.perPage),
  };
}

/** One product, or a 404. */
export async function getProduct(db: Queryable, id: number): Promise<Product> {
  const row = await db.get<Record<string, unknown>>(`SELECT ${COLUMNS} FROM products WHERE id = ?`, [id]);
  if (!row) throw notFound('product', id);
  return toProduct(row);
}

/** Stock levels of several products, read from the database. */
export async function stockOf(db: Queryable, ids: readonly number[]): Promise<Map<number, number>> {
  if (ids.length === 0) return new Map();
  const rows = await db.all<{ id: number | string; stock: number | string }>(
    `SELECT id, stock FROM products WHERE id IN (${ids.map(() => '?').join(', ')})`,
    ids,
  );
  return new Map(rows.map((r) => [Number(r.id), Number(r.stock)]));
}

/** Every category with its product count. */
export async function listCategories(db: Queryable): Promise<{ name: string; products: number }[]> {
  const rows = await db.all<{ category: string; n: number | string }>(
    'SELECT category, count(*) AS n FROM products GROUP BY category ORDER BY category',
  );
  return rows.map((r) => ({ name: r.category, products: Number(r.n) }));
}
