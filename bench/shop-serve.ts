/**
 * The shop benchmarks' child process body: runs the example shop (SQLite file, real Redis with its own
 * key prefix) on 127.0.0.1 and answers the parent's IPC: `stats` -> CPU time and memory (after a GC
 * when asked and `--expose-gc` is on), `stop` -> close and exit. Entry points: shop-server-bare.ts and
 * shop-server-prodmon.ts (bundled separately, so the bare shop never loads prodmon's code).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createShop, type ShopOptions } from '../examples/shop/src/shop.js';

/** The child's arguments: `--dir DIR` (its data) and `--redis URL`. */
export function serveArgs(): { dir: string; redis: string } {
  const { values } = parseArgs({ options: { dir: { type: 'string' }, redis: { type: 'string' } } });
  if (!values.dir) throw new Error('--dir is required');
  return { dir: values.dir, redis: values.redis ?? 'redis://127.0.0.1:6379' };
}

/** Starts the shop with `telemetry` and serves the parent until told to stop. */
export async function serve(dir: string, redis: string, telemetry?: ShopOptions['telemetry']): Promise<void> {
  const shop = await createShop({
    sqlitePath: join(dir, 'shop.db'),
    redisUrl: redis,
    redisPrefix: `bench_${process.pid}:`,
    telemetry,
  });
  const url = await shop.listen(0, '127.0.0.1');
  await shop.cache.waitUntilUp(2000);
  const gc = (globalThis as { gc?: () => void }).gc;
  process.on('message', async (msg: { type: string; gc?: boolean }) => {
    if (msg.type === 'stats') {
      if (msg.gc && gc) gc();
      const m = process.memoryUsage();
      process.send?.({
        type: 'stats',
        cpu: process.cpuUsage(),
        rss: m.rss,
        heapUsed: m.heapUsed,
        at: performance.now(),
      });
    } else if (msg.type === 'stop') {
      await shop.close();
      process.send?.({ type: 'stopped' }, () => process.exit(0));
    }
  });
  process.send?.({ type: 'ready', url, cache: shop.cache.state });
}
