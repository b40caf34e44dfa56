/**
 * Child process of the shop benchmarks: runs the example shop (SQLite file, real Redis with its own key
 * prefix) with or without prodmon embedded, on 127.0.0.1, and answers the parent's IPC:
 * `stats` -> CPU time and memory, `stop` -> close and exit.
 *
 *   node --import tsx bench/shop-server.ts --prodmon on|off --dir DIR
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createShop } from '../examples/shop/src/shop.js';

const { values } = parseArgs({
  options: {
    prodmon: { type: 'string', default: 'off' },
    dir: { type: 'string' },
    redis: { type: 'string' },
  },
});
const dir = values.dir;
if (!dir) throw new Error('--dir is required');
const withProdmon = values.prodmon === 'on';

const telemetry = withProdmon
  ? (await import('../examples/shop/src/prodmon.js')).prodmonTelemetry({
      dataDir: join(dir, 'prodmon'),
      config: {
        auth: { tokens: [{ name: 'bench', token: 'bench-token-0123456789abcdef', role: 'admin' }] },
        logs: { stdout: false },
      },
    })
  : undefined;

const shop = await createShop({
  sqlitePath: join(dir, 'shop.db'),
  redisUrl: values.redis ?? 'redis://127.0.0.1:6379',
  redisPrefix: `bench_${process.pid}:`,
  telemetry,
});
const url = await shop.listen(0, '127.0.0.1');
await shop.cache.waitUntilUp(2000);

process.on('message', async (msg: { type: string }) => {
  if (msg.type === 'stats') {
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
