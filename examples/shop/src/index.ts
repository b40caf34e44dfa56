/** The example shop: `createShop`, its parts, the demo's traffic and faults. */
export { type CacheState, InventoryCache } from './cache.js';
export type { Dialect, Queryable, ShopDb } from './db/types.js';
export { ShopError } from './errors.js';
export { FAULT_NAMES, type FaultName, Faults, isFaultName } from './faults.js';
export { DEMO_PASSWORD, DEMO_USERS } from './seed.js';
export { createShop, type Shop, type ShopOptions, type ShopParts } from './shop.js';
export { consoleLogger, noTelemetry, type ShopLogger, silentLogger, type Telemetry } from './telemetry.js';
