/** Test helpers: a shop on each storage (real SQLite file, real PostgreSQL schema), JSON over HTTP. */
import { join } from 'node:path';
import { pgSchema, tempDir, uniqueName } from '../../../../test/support/services.js';
import { createShop, type Shop, type ShopOptions } from '../../src/shop.js';

export { REDIS_URL, uniqueName } from '../../../../test/support/services.js';

/** A running shop and its base URL. */
export interface Running {
  shop: Shop;
  url: string;
  /** Closes the shop and drops its data. */
  cleanup(): Promise<void>;
}

/** A storage the shop runs on in tests. */
export interface StoreKind {
  name: 'sqlite' | 'postgres';
  start(opts?: ShopOptions): Promise<Running>;
}

async function listen(shop: Shop, drop: () => Promise<void> | void): Promise<Running> {
  const url = await shop.listen(0, '127.0.0.1');
  return {
    shop,
    url,
    async cleanup() {
      await shop.close();
      await drop();
    },
  };
}

/** Both storages; every API test runs against each. */
export const STORES: StoreKind[] = [
  {
    name: 'sqlite',
    async start(opts = {}) {
      const dir = tempDir('shop-test-');
      const shop = await createShop({ sqlitePath: join(dir.path, 'shop.db'), ...opts });
      return listen(shop, dir.cleanup);
    },
  },
  {
    name: 'postgres',
    async start(opts = {}) {
      const s = pgSchema();
      const shop = await createShop({ databaseUrl: s.url, pgSchema: s.schema, ...opts });
      return listen(shop, s.drop);
    },
  },
];

/** A key prefix of its own for a test's Redis keys. */
export function redisPrefix(): string {
  return `${uniqueName('shop_t')}:`;
}

/** A JSON response. */
// biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the API answers
export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** Sends a request with an optional JSON body; parses a JSON answer. */
// biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the API answers
export async function call<T = any>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const res = await fetch(base + path, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}
