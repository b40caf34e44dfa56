/** The example shop: `createShop`, its parts, prodmon's embedding, the demo's traffic and faults. */
export { type CacheState, InventoryCache } from './cache.js';
export type { Dialect, Queryable, ShopDb } from './db/types.js';
export { ShopError } from './errors.js';
export { FAULT_NAMES, type FaultName, Faults, isFaultName } from './faults.js';
export { type ProdmonEmbedOptions, type ProdmonTelemetry, prodmonTelemetry, shopChecks } from './prodmon.js';
export { DEMO_PASSWORD, DEMO_USERS } from './seed.js';
export { createShop, type Shop, type ShopOptions, type ShopParts } from './shop.js';
export {
  consoleLogger,
  noTelemetry,
  type SecurityEvent,
  type ShopHealth,
  type ShopLogger,
  silentLogger,
  type Telemetry,
} from './telemetry.js';
export { runTraffic, type TrafficOptions, type TrafficStats } from './traffic.js';
