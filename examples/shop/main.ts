/**
 * The example shop as a service, with prodmon embedded:
 *
 *   node --import tsx examples/shop/main.ts
 *
 * Environment: PORT (default 3000), HOST (default 127.0.0.1), SHOP_DATABASE_URL (PostgreSQL; default
 * SQLite in SHOP_SQLITE_PATH, ./shop.db), SHOP_REDIS_URL (default redis://127.0.0.1:6379; "none" for
 * no cache), PRODMON_CONFIG or ./prodmon.yaml (prodmon's config; checks of the shop's database and
 * cache are added), PRODMON_DATA_DIR (default ./.prodmon). SIGINT/SIGTERM stop it gracefully.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { prodmonTelemetry } from './src/prodmon.js';
import { createShop } from './src/shop.js';

const env = process.env;
const configFile = env.PRODMON_CONFIG ?? 'prodmon.yaml';
// prodmon validates it (and substitutes ${ENV_VARS}) in createMonitor; a bad file fails the start.
const config = existsSync(configFile) ? (parse(readFileSync(configFile, 'utf8')) ?? {}) : {};
const redis = env.SHOP_REDIS_URL ?? 'redis://127.0.0.1:6379';

const shop = await createShop({
  databaseUrl: env.SHOP_DATABASE_URL || undefined,
  sqlitePath: env.SHOP_SQLITE_PATH ?? 'shop.db',
  redisUrl: redis === 'none' ? null : redis,
  telemetry: prodmonTelemetry({ config, dataDir: env.PRODMON_DATA_DIR }),
});
const url = await shop.listen(Number(env.PORT ?? 3000), env.HOST ?? '127.0.0.1');
shop.telemetry.logger.app.info({ url }, 'shop listening');
process.stdout.write(`shop listening on ${url} (health: ${url}/health/, metrics: ${url}/metrics)\n`);

let stopping = false;
const stop = async () => {
  if (stopping) process.exit(130);
  stopping = true;
  await shop.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
