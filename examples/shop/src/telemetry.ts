/**
 * The seam between the shop and its monitoring: what the shop tells the outside world (logs, request
 * and query timings, security events, health). `noTelemetry` runs the shop bare; `prodmon.ts` fills it
 * from an embedded prodmon monitor.
 */
import type Database from 'better-sqlite3';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type pg from 'pg';

/** One log channel (pino-compatible call shape). */
export interface ShopLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The four logs of a production service. */
export interface ShopLogger {
  app: ShopLog;
  error: ShopLog;
  performance: ShopLog;
  security: ShopLog;
}

/** Something security-relevant happened (a failed sign-in...). */
export interface SecurityEvent {
  /** Named as prodmon's security rules count them. */
  type: 'failed_login' | 'api_auth_failure';
  ip: string | undefined;
  /** Masked account name, never the full address. */
  user?: string;
  reason?: string;
}

/** What a health check of the shop reports. */
export interface ShopHealth {
  status: 'healthy' | 'degraded' | 'unhealthy';
  details?: Record<string, unknown>;
  error?: string | null;
}

/** Everything the shop reports to, or asks of, its monitoring. */
export interface Telemetry {
  readonly logger: ShopLogger;
  /** Express middleware mounted before everything else (request timing, monitoring routes). */
  readonly before: RequestHandler[];
  /** Express error middleware mounted after the routes, before the shop's own error handler. */
  readonly errorHandlers: ErrorRequestHandler[];
  instrumentSqlite(db: Database.Database): Database.Database;
  instrumentPg(pool: pg.Pool): pg.Pool;
  /** Times a wait for the database that is not a driver call (SQLite connection waits, injected delays). */
  timeDbWait<T>(fn: () => Promise<T>): Promise<T>;
  /** Times a cache command. */
  timeCache<T>(operation: string, fn: () => Promise<T>): Promise<T>;
  security(event: SecurityEvent): void;
  /** Adds a health check of the shop's own (run by the monitor). */
  addHealthCheck(name: string, check: () => Promise<ShopHealth>, opts?: { critical?: boolean }): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const silent: ShopLog = { info() {}, warn() {}, error() {} };

/** A logger that drops everything. */
export const silentLogger: ShopLogger = { app: silent, error: silent, performance: silent, security: silent };

/** One-line JSON logs on stdout/stderr, for running the shop bare. */
export function consoleLogger(): ShopLogger {
  const channel = (log: string): ShopLog => {
    const write = (level: string, obj: object, msg?: string) => {
      const line = JSON.stringify({ time: new Date().toISOString(), log, level, msg, ...obj });
      (level === 'info' ? process.stdout : process.stderr).write(`${line}\n`);
    };
    return {
      info: (o, m) => write('info', o, m),
      warn: (o, m) => write('warn', o, m),
      error: (o, m) => write('error', o, m),
    };
  };
  return {
    app: channel('application'),
    error: channel('error'),
    performance: channel('performance'),
    security: channel('security'),
  };
}

/** No monitoring: logs go to `logger`, everything else is a pass-through. */
export function noTelemetry(logger: ShopLogger = silentLogger): Telemetry {
  return {
    logger,
    before: [],
    errorHandlers: [],
    instrumentSqlite: (db) => db,
    instrumentPg: (pool) => pool,
    timeDbWait: (fn) => fn(),
    timeCache: (_op, fn) => fn(),
    security: (e) => logger.security.warn({ ...e }, e.type),
    addHealthCheck() {},
    async start() {},
    async stop() {},
  };
}
