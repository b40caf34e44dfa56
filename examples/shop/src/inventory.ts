/** Stock levels read through the inventory cache, falling back to (and refilling from) the database. */
import type { InventoryCache } from './cache.js';
import { stockOf } from './catalog.js';
import type { Queryable } from './db/types.js';

/** Where an answer came from: all from Redis, partly from the database, or the cache skipped. */
export type CacheOutcome = 'hit' | 'miss' | 'bypass';

/** Stock of each product (absent: no such product) and how the cache served it. */
export async function availableStock(
  db: Queryable,
  cache: InventoryCache,
  ids: readonly number[],
): Promise<{ stock: Map<number, number>; cache: CacheOutcome }> {
  const unique = [...new Set(ids)];
  if (cache.state !== 'up') return { stock: await stockOf(db, unique), cache: 'bypass' };
  const stock = await cache.getStock(unique);
  const missing = unique.filter((id) => !stock.has(id));
  if (missing.length === 0) return { stock, cache: 'hit' };
  const fresh = await stockOf(db, missing);
  for (const [id, n] of fresh) stock.set(id, n);
  await cache.setStock(fresh);
  return { stock, cache: 'miss' };
}
