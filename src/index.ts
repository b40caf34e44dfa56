/**
 * prodmon's library entry: `import { createMonitor } from 'prodmon'`. It exports what an app embedding
 * prodmon calls — `createMonitor` and the `Monitor` it returns, the config types, the errors it may
 * catch and the archive reader — and the types those are written against; nothing else
 * (test/public-api.test.ts pins the list). Internals are imported from their own modules.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SecurityEvent } from './alerting/sources.js';
import { createApp } from './app.js';
import type { HealthService } from './checks/service.js';
import type { ResolvedConfig } from './config/load.js';
import type { ConfigInput } from './config/schema.js';
import type { ProductionLogger } from './logging/index.js';
import type { MetricsEngine } from './metrics/engine.js';

export type { SecurityEvent, WindowQuery, WindowValue } from './alerting/sources.js';
export type { CustomCheckFn, CustomCheckOptions, CustomCheckResult } from './checks/custom/index.js';
export type { SelfProbe, SelfProbeResult } from './checks/types.js';
export { ConfigError } from './config/load.js';
export type { Config, ConfigInput } from './config/schema.js';
export { ProdmonError } from './core/errors.js';
export type { HealthStatus } from './domain/health.js';
export type { Labels } from './domain/labels.js';
export type { WrapOptions } from './instrument/node-http.js';
export type { QueryLabels } from './instrument/query-timer.js';
export type { SqlOperation } from './instrument/sql.js';
export { listArchives, readArchive } from './jobs/archive/reader.js';
export type { HealthProviders } from './metrics/prometheus.js';
export type { PerformanceSummary } from './metrics/summary.js';

/** What an app does with its monitor (README: Embedded, Instrumenting your app, Reading). */
export interface Monitor {
  /**
   * A `node:http` handler for prodmon's paths (`/health/`, `/production/...`, `/metrics`); calls `next`
   * for every other path, and records each request it passes on.
   */
  handler(req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void;
  /** Express/Connect middleware recording every request (`app.use(monitor.middleware())`, first). */
  middleware(): ReturnType<MetricsEngine['middleware']>;
  /** Express error middleware counting thrown errors as failures (after the routes). */
  errorHandler(): ReturnType<MetricsEngine['errorHandler']>;
  /** The Fastify plugin (`await fastify.register(monitor.fastifyPlugin)`). */
  readonly fastifyPlugin: MetricsEngine['fastifyPlugin'];
  /** The Fastify plugin, as a call (`fastify.register(monitor.fastify())`). */
  fastify(): MetricsEngine['fastifyPlugin'];
  /** Koa middleware (`app.use(monitor.koa())`, first). */
  koa(): ReturnType<MetricsEngine['koa']>;
  /** Wraps a node:http request listener (`http.createServer(monitor.wrap(handler, { route }))`). */
  wrap: MetricsEngine['wrap'];
  /** Times one request, recorded under `route` when the response closes. */
  track: MetricsEngine['track'];
  /** Times every query of a pg Pool or Client; returns it. */
  instrumentPg: MetricsEngine['instrumentPg'];
  /** Times every query of a mysql2 connection or pool; returns it. */
  instrumentMysql: MetricsEngine['instrumentMysql'];
  /** Times every statement of a better-sqlite3 database; returns it. */
  instrumentSqlite: MetricsEngine['instrumentSqlite'];
  /** Times any call as a database query (`timeQuery('redis', () => client.get(k))`). */
  timeQuery: MetricsEngine['timeQuery'];
  /** Custom checks and self probes: `register(name, async (signal) => result, opts)`, `addSelfProbe(name, fn)`. */
  readonly health: Pick<HealthService, 'register' | 'addSelfProbe' | 'report' | 'run'>;
  /** Reads over every instance's rows and this process's open minutes. */
  readonly metrics: Pick<MetricsEngine, 'performanceSummary' | 'windowValues' | 'onData' | 'setProviders'>;
  /** The four production logs: `app`, `error`, `performance`, `security`. */
  readonly logger: Pick<ProductionLogger, 'app' | 'error' | 'performance' | 'security' | 'child' | 'flush'>;
  /** Reports a security event (failed login, rate-limit hit...): logged and counted by the `security` rules. */
  security(event: SecurityEvent): void;
  /** Opens the store, serves the routes, starts the checks, alerting and jobs. */
  start(): Promise<void>;
  /** Listens on the configured (or given) host and port; returns the URL. */
  listen(host?: string, port?: number): Promise<string>;
  /** Stops gracefully (readiness fails first, then in-flight work finishes); closes the store and logs. */
  stop(opts?: { drainDelayMs?: number }): Promise<void>;
}

/** Options of {@link createMonitor}. */
export interface MonitorOptions {
  /** prodmon's data directory (store, logs); default `./.prodmon`, or the config's `data_dir`. */
  dataDir?: string;
  /** Where `prodmon.yaml` and relative paths are looked up (default the process's working directory). */
  cwd?: string;
  /** The environment `${VAR}`s in the config are read from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Write the log files (default true). */
  fileLogs?: boolean;
}

/**
 * Creates a monitor for embedding in an app. `config` is the same shape as `prodmon.yaml` (parsed and
 * validated now; a bad config throws a ConfigError naming each field); with no argument, `prodmon.yaml`
 * (or `$PRODMON_CONFIG`) is read if present.
 */
export function createMonitor(config?: ConfigInput | ResolvedConfig, opts: MonitorOptions = {}): Monitor {
  return createApp(config, opts);
}
