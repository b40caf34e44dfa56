/**
 * prodmon embedded in the shop: one monitor (`createMonitor`) feeding the shop's {@link Telemetry} —
 * request middleware, query wrappers on the driver, timings of cache commands and database waits,
 * the production logger, security events, and health checks of the shop's database and cache.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { type ConfigInput, createMonitor, type Monitor } from '../../../src/index.js';
import type { ShopParts } from './shop.js';
import type { Telemetry } from './telemetry.js';

/** How to embed prodmon. */
export interface ProdmonEmbedOptions {
  /** The monitor's config, as in `prodmon.yaml` (health checks of the shop's storage are added). */
  config?: ConfigInput;
  /** prodmon's data directory (store, logs); default `./.prodmon`. */
  dataDir?: string;
  /** Write the log files (default true). */
  fileLogs?: boolean;
}

/** A telemetry backed by prodmon, with the monitor itself for callers that want more. */
export interface ProdmonTelemetry extends Telemetry {
  readonly monitor: Monitor;
}

/** The `db` label of the shop's queries in prodmon's metrics. */
export const DB_LABEL = 'shop';

/** The shop's config with health checks for its database and cache (unless checks of those names exist). */
export function shopChecks(config: ConfigInput, parts: ShopParts): ConfigInput {
  type Health = NonNullable<ConfigInput['health']>;
  type Check = NonNullable<Health['checks']>[number];
  const health: Health = config.health ?? {};
  const checks: Check[] = [...(health.checks ?? [])];
  const has = (name: string) => checks.some((c) => c.name === name);
  if (!has('database')) {
    if (parts.dialect === 'postgres')
      checks.push({ name: 'database', kind: 'postgres', url: parts.databaseUrl!, timeout: '2s' });
    // An in-memory database has no file another connection could open.
    else if (parts.sqlitePath && parts.sqlitePath !== ':memory:') {
      checks.push({ name: 'database', kind: 'sqlite', path: parts.sqlitePath, timeout: '2s' });
    }
  }
  // The shop runs without Redis: the cache's server being down degrades, it does not make us unhealthy.
  if (parts.redisUrl && !has('redis'))
    checks.push({ name: 'redis', kind: 'redis', url: parts.redisUrl, timeout: '1s', critical: false });
  return { ...config, health: { ...health, checks } };
}

/** A telemetry factory for `createShop({ telemetry })`: builds and wires the monitor once the shop's parts exist. */
export function prodmonTelemetry(opts: ProdmonEmbedOptions = {}): (parts: ShopParts) => ProdmonTelemetry {
  return (parts) => {
    const config = shopChecks(opts.config ?? {}, parts);
    const monitor = createMonitor(config, { dataDir: opts.dataDir, fileLogs: opts.fileLogs });
    const logger = monitor.logger;
    return {
      monitor,
      logger,
      // prodmon's own routes (/health, /production, /metrics) first, so they are not counted as shop traffic.
      before: [monitor.handler as RequestHandler, monitor.middleware() as RequestHandler],
      errorHandlers: [monitor.errorHandler() as ErrorRequestHandler],
      instrumentSqlite: (db) => monitor.instrumentSqlite(db, { name: DB_LABEL }),
      instrumentPg: (pool) => monitor.instrumentPg(pool, { name: DB_LABEL }),
      timeDbWait: (fn) => monitor.timeQuery({ db: DB_LABEL, operation: 'wait' }, fn),
      timeCache: (operation, fn) => monitor.timeQuery({ db: 'redis', operation }, fn),
      // Logged to the security stream and counted by the `alerting.security` rules (failed_logins...).
      security: (e) =>
        monitor.security({ kind: e.type, ip: e.ip, user: e.user, detail: { reason: e.reason } }),
      addHealthCheck(name, check, o) {
        monitor.health.register(name, () => check(), { critical: o?.critical, timeout: '2s' });
      },
      start: () => monitor.start(),
      stop: () => monitor.stop(),
    };
  };
}
