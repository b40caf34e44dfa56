/**
 * `createShop(opts)`: the e-commerce service — storage (SQLite, or PostgreSQL with a URL), the Redis
 * inventory cache, the JSON API, optional demo controls — with its monitoring plugged in through a
 * {@link Telemetry}. Returns the Express app and a `close()`.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import { InventoryCache } from './cache.js';
import { openPostgres } from './db/postgres.js';
import { migrate } from './db/schema.js';
import { openSqlite } from './db/sqlite.js';
import type { ShopDb } from './db/types.js';
import { Faults } from './faults.js';
import { apiRouter } from './routes/api.js';
import { demoRouter } from './routes/demo.js';
import { errorHandler, notFoundHandler } from './routes/errors.js';
import { seed } from './seed.js';
import { noTelemetry, type ShopHealth, type Telemetry } from './telemetry.js';

/** Where the shop keeps its data, and what it plugs in. */
export interface ShopOptions {
  /** PostgreSQL URL; when absent the shop uses SQLite. */
  databaseUrl?: string;
  /** PostgreSQL schema of the shop's tables (default `public`). */
  pgSchema?: string;
  /** SQLite file (default `:memory:`). */
  sqlitePath?: string;
  /** Redis of the inventory cache; null or absent: no cache. */
  redisUrl?: string | null;
  /** Key prefix in Redis (default `shop:`). */
  redisPrefix?: string;
  /** Seconds a cached stock level is trusted (default 60). */
  cacheTtlSeconds?: number;
  /** Deadline of one cache command before the shop bypasses Redis (default 250 ms). */
  cacheCommandTimeoutMs?: number;
  /** Seed an empty database with the catalogue and demo accounts (default true). */
  seed?: boolean | { products?: number };
  /** Fault switches (the demo's); default: all off. */
  faults?: Faults;
  /** Enables `/_demo/fault`, protected by this token. */
  demoToken?: string;
  /** Monitoring; built from the shop's parts once they exist (default: none). */
  telemetry?: Telemetry | ((parts: ShopParts) => Telemetry | Promise<Telemetry>);
  /** Wall clock for sessions and timestamps (tests pin it). */
  now?: () => number;
}

/** What a telemetry factory may look at: the shop's storage and cache targets. */
export interface ShopParts {
  dialect: ShopDb['dialect'];
  sqlitePath: string | null;
  databaseUrl: string | null;
  pgSchema: string;
  redisUrl: string | null;
  redisPrefix: string;
  cache: InventoryCache;
  faults: Faults;
}

/** A running shop. */
export interface Shop {
  app: Express;
  db: ShopDb;
  cache: InventoryCache;
  faults: Faults;
  telemetry: Telemetry;
  /** Listens (default 127.0.0.1 on a free port); resolves with the base URL. */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops listening (finishing in-flight requests), then stops monitoring and closes cache and database. */
  close(): Promise<void>;
}

/** The inventory cache as the monitoring sees it: up with its latency and counters, or why not. */
async function cacheHealth(cache: InventoryCache): Promise<ShopHealth> {
  const p = await cache.ping();
  if (p.ok)
    return { status: 'healthy', details: { latency_ms: Math.round(p.ms * 100) / 100, ...cache.stats } };
  return {
    status: cache.state === 'disabled' ? 'degraded' : 'unhealthy',
    details: { ...cache.stats },
    error: p.reason,
  };
}

/** Builds the shop: opens and migrates storage, seeds it, starts the cache and the monitoring. */
export async function createShop(opts: ShopOptions = {}): Promise<Shop> {
  const now = opts.now ?? Date.now;
  const faults = opts.faults ?? new Faults();
  const sqlitePath = opts.databaseUrl ? null : (opts.sqlitePath ?? ':memory:');
  // Telemetry wraps the cache's commands, so the cache gets a late-bound timer.
  let telemetry: Telemetry = noTelemetry();
  const cache = new InventoryCache({
    url: opts.redisUrl ?? null,
    prefix: opts.redisPrefix ?? 'shop:',
    ttlSeconds: opts.cacheTtlSeconds,
    commandTimeoutMs: opts.cacheCommandTimeoutMs,
    timeCommand: (op, fn) => telemetry.timeCache(op, fn),
    onStateChange: (state, reason) => {
      const log = telemetry.logger;
      if (state === 'up') log.app.info({ cache: 'redis' }, 'inventory cache connected');
      else
        log.app.warn(
          { cache: 'redis', state, reason },
          'inventory cache unavailable: reading stock from the database',
        );
    },
  });
  const parts: ShopParts = {
    dialect: opts.databaseUrl ? 'postgres' : 'sqlite',
    sqlitePath,
    databaseUrl: opts.databaseUrl ?? null,
    pgSchema: opts.pgSchema ?? 'public',
    redisUrl: opts.redisUrl ?? null,
    redisPrefix: opts.redisPrefix ?? 'shop:',
    cache,
    faults,
  };
  if (opts.telemetry)
    telemetry = typeof opts.telemetry === 'function' ? await opts.telemetry(parts) : opts.telemetry;
  const t = telemetry;

  const db = opts.databaseUrl
    ? await openPostgres({
        url: opts.databaseUrl,
        schema: opts.pgSchema,
        delayMs: faults.delayMs,
        wrap: (pool) => t.instrumentPg(pool),
        onError: (err) =>
          t.logger.error.error({ err: { message: err.message } }, 'idle database connection failed'),
      })
    : openSqlite({
        path: sqlitePath!,
        delayMs: faults.delayMs,
        timeWait: (fn) => t.timeDbWait(fn),
        wrap: (raw) => t.instrumentSqlite(raw),
      });
  try {
    await migrate(db);
    if (opts.seed !== false) {
      const seeded = await seed(db, {
        products: typeof opts.seed === 'object' ? opts.seed.products : undefined,
        now: now(),
      });
      if (seeded > 0) t.logger.app.info({ products: seeded }, 'seeded the catalogue');
    }
    faults.onChange((name, on) => {
      if (name === 'redis-down') cache.setForcedDown(on);
    });
    cache.start();
    // A short, bounded wait, so the first health check sees a reachable cache as up; never more.
    await cache.waitUntilUp(500);
    t.addHealthCheck('inventory-cache', () => cacheHealth(cache), {
      // The shop serves from the database without Redis: a cache outage degrades, it does not take us down.
      critical: false,
    });
    await t.start();
  } catch (err) {
    await cache.close().catch(() => {});
    await db.close().catch(() => {});
    throw err;
  }

  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    res.setHeader('x-request-id', randomUUID());
    next();
  });
  for (const mw of t.before) app.use(mw);
  app.use(express.json({ limit: '64kb' }));
  app.get('/', (_req, res) => {
    res.json({
      name: 'prodmon example shop',
      endpoints: [
        '/api/products',
        '/api/products/:id',
        '/api/categories',
        '/api/carts',
        '/api/checkout',
        '/api/login',
      ],
    });
  });
  const onError = [...t.errorHandlers, errorHandler(t.logger)];
  app.use('/api', apiRouter({ db, cache, telemetry: t, now, inject: faults.errors, errorHandlers: onError }));
  if (opts.demoToken) app.use('/_demo', demoRouter(faults, opts.demoToken, t));
  app.use(notFoundHandler);
  for (const h of onError) app.use(h);

  let server: Server | null = null;
  let closed: Promise<void> | null = null;
  return {
    app,
    db,
    cache,
    faults,
    telemetry: t,
    listen(port = 0, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        const s = app.listen(port, host, (err?: Error) => {
          if (err) return reject(err);
          server = s;
          const a = s.address() as AddressInfo;
          resolve(`http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
        });
      });
    },
    close() {
      closed ??= (async () => {
        if (server) {
          const s = server;
          await new Promise<void>((resolve) => {
            const force = setTimeout(() => s.closeAllConnections(), 5000);
            s.close(() => {
              clearTimeout(force);
              resolve();
            });
            s.closeIdleConnections();
          });
        }
        await t
          .stop()
          .catch((err: Error) =>
            t.logger.error.error({ err: { message: err.message } }, 'monitoring stop failed'),
          );
        await cache.close();
        await db.close();
      })();
      return closed;
    },
  };
}
