/**
 * The one place that wires concrete parts together: config -> store, logger, HTTP routes and the
 * background loops. Everything else receives its dependencies through constructors.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { alertActions } from './alerting/actions.js';
import { AlertEngine } from './alerting/engine.js';
import type { SecurityEvent } from './alerting/sources.js';
import { OwnProblems } from './checks/self/problems.js';
import { StoreGuard } from './checks/self/store.js';
import { HealthService } from './checks/service.js';
import type { SelfProbeResult } from './checks/types.js';
import { type LoadOptions, loadConfig, parseConfig, type ResolvedConfig } from './config/load.js';
import type { ConfigInput } from './config/schema.js';
import { type Clock, systemClock } from './core/clock.js';
import { errorMessage } from './core/errors.js';
import { type Loop, startLoop } from './core/loop.js';
import { Dashboard } from './dashboard/index.js';
import { worstStatus } from './domain/health.js';
import { TokenAuth } from './http/auth.js';
import type { Lifecycle } from './http/lifecycle.js';
import { alertRoutes } from './http/routes/alerts.js';
import { apiRoutes } from './http/routes/api.js';
import { baselineRoutes } from './http/routes/baselines.js';
import { dashboardRoutes } from './http/routes/dashboard.js';
import { deploymentRoutes } from './http/routes/deployments.js';
import { healthRoutes } from './http/routes/health.js';
import { healthDetailedRoutes } from './http/routes/health-detailed.js';
import { ingestRoutes, pushAdmission } from './http/routes/ingest.js';
import { metricsRoutes } from './http/routes/metrics.js';
import { otlpRoutes } from './http/routes/otlp.js';
import { buildHttp, type HttpServer, ownedPaths, type Routes } from './http/server.js';
import { SessionManager } from './http/session.js';
import { PassOn, PassOnWatch, passOnWindow } from './instrument/mount.js';
import { createLeadership, type Leadership, leaseHolder, type Scheduler } from './jobs/index.js';
import { createScheduler, jobLog } from './jobs/wiring.js';
import {
  createProductionLogger,
  createSilentLogger,
  errorLinesAround,
  type ProductionLogger,
} from './logging/index.js';
import { admissionLimits, type PushAdmission } from './metrics/admission.js';
import { MetricsEngine } from './metrics/engine.js';
import { METRIC } from './metrics/names.js';
import { journalDir, OpenMinutes, OpenMinutesRollups } from './metrics/open-minutes.js';
import { buildChannels, NotificationPipeline } from './notifiers/pipeline.js';
import { openStore, type Store, storeTarget } from './store/index.js';
import { Journal } from './store/journal.js';
import { VERSION } from './version.js';

/** Optional parts a caller (a test, the CLI) provides instead of the defaults. */
export interface AppOptions {
  clock?: Clock;
  store?: Store;
  logger?: ProductionLogger;
  /** Log to files (default true) — false for in-process tests. */
  fileLogs?: boolean;
  /** Leadership to use instead of the lease (+ advisory lock on PostgreSQL), e.g. `soleLeadership()` in tests. */
  leadership?: Leadership;
}

/** The running monitor: store, logger, HTTP routes and background work. */
export class App {
  readonly config: ResolvedConfig;
  readonly clock: Clock;
  readonly logger: ProductionLogger;
  #store: Store | undefined;
  /** The store as opened (or given), under the open minutes' view of its rollups. */
  #baseStore: Store | undefined;
  #http: HttpServer | undefined;
  #loops: Loop[] = [];
  #storeOk = true;
  #lastError: string | null = null;
  #ownsStore: boolean;
  /** Pushed rows of open minutes, held until they settle (SQLite; see src/metrics/open-minutes.ts). */
  #openMinutes: OpenMinutes | null = null;
  readonly lifecycle: Lifecycle;
  /** The metrics engine: performanceSummary, windowValues, onData, compact, applyRetention, /metrics. */
  readonly metrics: MetricsEngine;
  /** Health checks: `register(name, async (signal) => result)`, `addSelfProbe(name, fn)`, `report()`, `run()`. */
  readonly health: HealthService;
  #alerting: AlertEngine | undefined;
  #leadership: Leadership | undefined;
  #scheduler: Scheduler | undefined;
  #notifications: NotificationPipeline | undefined;
  /** Records the requests `handler` passes on to the app; whether prodmon's paths are `handler`'s own. */
  readonly #passOn: PassOn;
  readonly #owned: (url: string | undefined) => boolean;
  /** The store watched by `self`, and the `system` alert about it sent without the store. */
  #guard: StoreGuard | undefined;
  #refresh = { running: false, again: false };
  /** Own problems without a check of their own (failing channels, failed jobs), reported by `self`. */
  readonly #problems = new OwnProblems(() => {
    if (this.lifecycle?.ready) this.health.run().catch(() => {});
  });

  constructor(config: ResolvedConfig, opts: AppOptions = {}) {
    this.config = config;
    this.#leadership = opts.leadership;
    this.clock = opts.clock ?? systemClock;
    this.#store = opts.store;
    this.#baseStore = opts.store;
    this.#ownsStore = !opts.store;
    this.logger =
      opts.logger ??
      (opts.fileLogs === false
        ? createSilentLogger()
        : createProductionLogger({
            dir: config.paths.logs,
            config: config.logs,
            clock: this.clock,
            secrets: config.secrets,
            stdout: config.logs.stdout,
          }));
    this.lifecycle = {
      ready: false,
      draining: false,
      startedAt: null,
      selfStatus: () =>
        worstStatus([
          this.#storeOk ? 'healthy' : 'unhealthy',
          ...this.health
            .latest()
            .filter((r) => r.kind === 'self')
            .map((r) => r.status),
        ]),
    };
    // Built now (no I/O), so middleware can be mounted before start(); the store is attached in start().
    this.metrics = new MetricsEngine({
      config,
      clock: this.clock,
      log: {
        warn: (o, m) => this.logger.app.warn(o, m),
        error: (o, m) => this.logger.error.error(o, m),
      },
    });
    // Built now too, so custom checks and self probes can be registered before start().
    this.health = new HealthService({
      config,
      clock: this.clock,
      log: {
        info: (o, m) => this.logger.app.info(o, m),
        warn: (o, m) => this.logger.app.warn(o, m),
        error: (o, m) => this.logger.error.error(o, m),
      },
      onResult: (r) =>
        this.metrics.record(
          METRIC.checkDuration,
          { check: r.name },
          r.responseTimeMs,
          r.status === 'unhealthy',
        ),
    });
    this.health.addSelfProbe('problems', () => this.#problems.probe());
    this.health.addSelfProbe('logger', () => {
      const s = this.logger.status();
      return { status: s.status, detail: s.status === 'healthy' ? { dropped: s.dropped } : { ...s } };
    });
    this.metrics.setProviders({ checks: () => this.health.latest() });
    this.#passOn = new PassOn(this.metrics.requests);
    this.#owned = ownedPaths(config.server.prefix);
    this.health.addSelfProbe('handler', this.#handlerProbe());
  }

  /**
   * The `self` probe of `handler`: degraded (and a warning logged) while requests it passed on in the
   * last minute went unrecorded (see PassOnWatch).
   */
  #handlerProbe(): () => SelfProbeResult {
    const window = passOnWindow(this.config.health.refresh_interval);
    const watch = new PassOnWatch(this.#passOn, this.clock.now(), window);
    let warned = false;
    return () => {
      const finding = watch.check(this.clock.now());
      if (finding === null) {
        if (warned) this.logger.app.info('requests passed on by monitor.handler are recorded again');
        warned = false;
        return { status: 'healthy', detail: { passed: this.#passOn.passed } };
      }
      if (!warned) {
        this.logger.app.warn(
          { passed: finding.passed, windowMs: finding.spanMs },
          `${finding.message}: check that the app answers them, and how prodmon is mounted`,
        );
      }
      warned = true;
      return { status: 'degraded', detail: finding.message };
    };
  }

  // ---- embedded instrumentation (see MetricsEngine) ----

  /** Express/Connect middleware recording every request (`app.use(monitor.middleware())`, first). */
  middleware(): ReturnType<MetricsEngine['middleware']> {
    return this.metrics.middleware();
  }

  /** Optional Express error middleware counting thrown errors as failures (after the routes). */
  errorHandler(): ReturnType<MetricsEngine['errorHandler']> {
    return this.metrics.errorHandler();
  }

  /** The Fastify plugin (`await fastify.register(monitor.fastifyPlugin)`). */
  get fastifyPlugin(): MetricsEngine['fastifyPlugin'] {
    return this.metrics.fastifyPlugin;
  }

  /** The Fastify plugin, as a call (`fastify.register(monitor.fastify())`). */
  fastify(): MetricsEngine['fastifyPlugin'] {
    return this.metrics.fastifyPlugin;
  }

  /** Koa middleware (`app.use(monitor.koa())`, first). */
  koa(): ReturnType<MetricsEngine['koa']> {
    return this.metrics.koa();
  }

  /** Wraps a node:http request listener (`http.createServer(monitor.wrap(handler, { route }))`). */
  wrap: MetricsEngine['wrap'] = (handler, opts) => this.metrics.wrap(handler, opts);

  /** Times one request, recorded under `route` when the response closes. */
  track: MetricsEngine['track'] = (req, res, route) => this.metrics.track(req, res, route);

  /** Times every query of a pg Pool or Client; returns it. */
  instrumentPg: MetricsEngine['instrumentPg'] = (target, opts) => this.metrics.instrumentPg(target, opts);

  /** Times every query of a mysql2 connection or pool; returns it. */
  instrumentMysql: MetricsEngine['instrumentMysql'] = (target, opts) =>
    this.metrics.instrumentMysql(target, opts);

  /** Times every statement of a better-sqlite3 database; returns it. */
  instrumentSqlite: MetricsEngine['instrumentSqlite'] = (target, opts) =>
    this.metrics.instrumentSqlite(target, opts);

  /** Times any call as a database query (`timeQuery('redis', () => client.get(k))`). */
  timeQuery: MetricsEngine['timeQuery'] = (name, fn) => this.metrics.timeQuery(name, fn);

  /** The alert engine (after `start`): rules, `resolve()`, `openAlerts()`, `onChange()`. */
  get alerting(): AlertEngine {
    if (!this.#alerting) throw new Error('prodmon is not started');
    return this.#alerting;
  }

  /**
   * Reports a security event (failed login, rate-limit hit...): logged to the security stream and
   * counted by the `security` alert rules (`alerting.security`). Safe to call before `start()`.
   */
  security(event: SecurityEvent): void {
    if (this.#alerting) this.#alerting.security(event);
    else this.logger.security.warn({ event: 'security', ...event }, `security event: ${event?.kind}`);
  }

  /** Who leads (after `start`). */
  get leadership(): Leadership {
    if (!this.#leadership) throw new Error('prodmon is not started');
    return this.#leadership;
  }

  /** The scheduled jobs (after `start`). */
  get scheduler(): Scheduler {
    if (!this.#scheduler) throw new Error('prodmon is not started');
    return this.#scheduler;
  }

  /** The store (after `start`). */
  get store(): Store {
    if (!this.#store) throw new Error('prodmon is not started');
    return this.#store;
  }

  /** The Fastify instance with prodmon's routes (after `start`). */
  get http(): FastifyInstance {
    if (!this.#http) throw new Error('prodmon is not started');
    return this.#http.app;
  }

  /** Why the store is unreachable, if it is. */
  get lastError(): string | null {
    return this.#lastError;
  }

  /** Opens and migrates the store, builds the routes, starts the background loops. */
  async start(): Promise<void> {
    if (this.lifecycle.ready) return;
    this.#baseStore ??= await openStore(storeTarget(this.config));
    const base = this.#baseStore;
    this.#store = base;
    await base.migrate(this.clock.now());
    if (base.dialect === 'sqlite') {
      // One process owns an SQLite store: pushed minutes are held until they settle, journaled, and
      // everything reads the store with them in place. What a crash left in the journal is written now.
      const log = {
        info: (o: object, m: string) => this.logger.app.info(o, m),
        warn: (o: object, m: string) => this.logger.app.warn(o, m),
        error: (o: object, m: string) => this.logger.error.error(o, m),
      };
      const open = new OpenMinutes({
        rollups: base.rollups,
        journal: new Journal({ dir: journalDir(this.config.dataDir), log }),
        clock: this.clock,
        maxRows: this.config.metrics.ingest.max_open_rows,
        log,
      });
      await open.start();
      this.#openMinutes = open;
      this.#store = { ...base, rollups: new OpenMinutesRollups(base.rollups, open) };
    }
    this.#leadership ??= createLeadership({
      config: this.config,
      store: this.#store,
      clock: this.clock,
      holder: leaseHolder(this.config.instanceId),
      log: jobLog(this.logger),
    });
    await this.#leadership.start(); // a lone instance leads when this returns
    const leadership = this.#leadership;
    const store = this.#store;
    const channels = buildChannels(this.config, this.clock);
    const guard = new StoreGuard({
      config: this.config,
      clock: this.clock,
      store,
      isLeader: () => leadership.isLeader(),
      channels,
      log: {
        error: (o, m) => this.logger.error.error(o, m),
        warn: (o, m) => this.logger.app.warn(o, m),
        info: (o, m) => this.logger.app.info(o, m),
      },
      // A statement failing on a corrupt file, an I/O error, a dropped connection: `self` looks at once.
      onFault: () => this.#refreshSoon(),
    });
    this.#guard = guard;
    // Transitions go to the outbox in the engine's transaction; only the leader delivers them.
    this.#notifications = new NotificationPipeline({
      config: this.config,
      store: this.#store,
      clock: this.clock,
      // Told directly while the store was failing: the regular firing of that alert is not sent again.
      channels: guard.direct.wrap(channels),
      // Fenced: a leader that stalled and lost its lease sends nothing, even before it notices.
      isLeader: async () => {
        if (!leadership.isLeader()) return false;
        try {
          await leadership.fence(store);
          return true;
        } catch {
          return false;
        }
      },
      log: {
        error: (o, m) => this.logger.error.error(o, m),
        warn: (o, m) => this.logger.app.warn(o, m),
      },
      // A failing or disabled channel turns the `self` check unhealthy: a `system` alert tells the others.
      onChannelFailing: (f) =>
        this.#problems.set(
          `channel ${f.channel}`,
          `${f.status === 'dead' ? 'gave up' : 'failing'}: ${f.reason}`,
          f.at,
        ),
      onChannelRecovered: (channel) => this.#problems.clear(`channel ${channel}`),
      onChannelDisabled: (channel, reason) =>
        this.#problems.set(`channel ${channel}`, `disabled: ${reason}`, this.clock.now()),
    });
    this.#alerting = new AlertEngine({
      store: this.#store,
      clock: this.clock,
      config: this.config.alerting,
      metrics: this.metrics,
      checks: this.health,
      logger: this.logger,
      escalateAfterMs: this.config.notifications.escalate_after,
      isLeader: () => leadership.isLeader(),
      // Gaining leadership evaluates at once: data that arrived while stepping down is not left for the next tick.
      onLeaderChange: (fn) => leadership.onChange((leader) => fn(leader)),
      sink: this.#notifications.sink,
      // The engine's transitions are written fenced: a stale leader's roll back instead of being stored.
      fence: (tx) => leadership.fence(tx),
      // The alert about a failing store, already sent without it, is taken over under its id.
      adoptAlertId: guard.adoptId,
      deployWindowMs: this.config.deployments.alert_window,
    });
    const alerting = this.#alerting;
    const sessions = new SessionManager({ config: this.config, clock: this.clock, store });
    const auth = new TokenAuth(this.config.auth.tokens, sessions);
    const dashboard = new Dashboard({
      engine: alerting,
      config: this.config,
      clock: this.clock,
      store,
      metrics: this.metrics,
      health: this.health,
      logs: (o) => errorLinesAround({ dir: this.config.paths.logs, ...o }),
      onError: (err) => this.logger.error.error({ err: errorMessage(err) }, 'dashboard live update failed'),
    });
    // Every resolution and silence, whoever asks (API, dashboard), goes through these.
    const actions = alertActions({
      store,
      clock: this.clock,
      logger: this.logger,
      engine: alerting,
      onChange: () => dashboard.live.notify(),
    });
    const { config, clock, lifecycle } = this;
    // pushed rows (POST /production/ingest, POST /v1/metrics) pass one admission: its limits are shared
    const ingest = {
      clock,
      limits: admissionLimits(config.metrics),
      instance: config.instanceId,
      store,
      openMinutes: this.#openMinutes,
      metrics: this.metrics,
      health: this.health,
      lifecycle,
    };
    let pushes: PushAdmission | undefined;
    const admission = () => (pushes ??= pushAdmission(ingest));
    const routes: Routes[] = [
      (app) =>
        alertRoutes(app, {
          store,
          clock,
          auth,
          actions,
          calendar: alerting.calendar,
          openAlerts: () => alerting.openAlerts(),
        }),
      (app) => healthRoutes(app, { budget: config.health.budget, lifecycle, health: this.health }),
      (app) =>
        healthDetailedRoutes(app, {
          auth,
          clock,
          lifecycle,
          health: this.health,
          instance: config.instanceId,
          secrets: config.secrets,
        }),
      ...(config.metrics.prometheus.enabled
        ? [
            (app: FastifyInstance) =>
              metricsRoutes(app, {
                auth,
                requireToken: config.auth.metrics_require_token,
                prometheus: this.metrics.prometheus,
              }),
          ]
        : []),
      (app) => ingestRoutes(app, { ...ingest, auth, admission: admission() }),
      (app) =>
        otlpRoutes(app, {
          auth,
          clock,
          admission: admission(),
          errorStatuses: config.metrics.error_statuses,
        }),
      (app) =>
        dashboardRoutes(app, {
          auth,
          sessions,
          dashboard,
          actions,
          signIn: { users: config.auth.users.length > 0, tokens: config.auth.tokens.length > 0 },
        }),
      (app) => apiRoutes(app, { auth, clock, sessions, dashboard, actions }),
      (app) =>
        baselineRoutes(app, {
          auth,
          clock,
          store,
          recorder: this.metrics.recorder,
          deployments: store.deployments,
          settleMs: config.metrics.flush_interval,
        }),
      (app) =>
        deploymentRoutes(app, {
          auth,
          clock,
          store,
          logger: this.logger,
          onChange: () => dashboard.live.notify(),
        }),
    ];
    this.metrics.attachStore(this.#store);
    // /metrics: the outbox and the open alerts as the shared store has them (every instance says the same)
    this.metrics.setProviders({
      outboxBacklog: () => store.outbox.backlog(),
      activeAlerts: () => store.alerts.openBySeverity(),
    });
    this.health.attachStore(this.#store);
    guard.attach(this.#alerting, this.health);
    this.#http = await buildHttp({
      prefix: config.server.prefix,
      clock,
      auth,
      onSecurityEvent: (event, log) => alerting.security(event, { log }),
      onError: (err) => this.logger.error.error({ err }, 'request failed'),
      routes,
    });
    this.metrics.start();
    this.health.start();
    this.#notifications.start(); // pending notifications from before a restart go out now
    await this.#alerting.start();
    this.#scheduler = createScheduler({
      config: this.config,
      store: this.#store,
      clock: this.clock,
      leadership,
      logger: this.logger,
      health: this.health,
      performance: async (p) => (await this.metrics.performanceSummary(p)).overall,
      // A failed job turns the `self` check degraded (a `system` alert names it) until it succeeds again.
      onFailure: (f) => this.#problems.set(`job ${f.job}`, `failed: ${f.error}`, f.at, 'degraded'),
      onRecovered: (job) => this.#problems.clear(`job ${job}`),
    });
    this.#scheduler.start();
    this.#loops.push(
      startLoop({
        clock: this.clock,
        intervalMs: this.config.health.refresh_interval,
        body: () => this.#heartbeat(),
        onError: (err) => this.logger.error.error({ err }, 'heartbeat failed'),
      }),
    );
    this.lifecycle.startedAt = this.clock.now();
    this.lifecycle.ready = true;
  }

  async #heartbeat(): Promise<void> {
    try {
      await this.store.instances.heartbeat(
        {
          id: this.config.instanceId,
          host: hostname(),
          pid: process.pid,
          version: VERSION,
          startedAt: this.lifecycle.startedAt ?? this.clock.now(),
        },
        this.clock.now(),
      );
      if (!this.#storeOk) this.logger.app.info('store reachable again');
      this.#storeOk = true;
      this.#lastError = null;
    } catch (err) {
      if (this.#storeOk) this.logger.error.error({ err: errorMessage(err) }, 'store unreachable');
      this.#storeOk = false;
      this.#lastError = errorMessage(err);
    }
  }

  /**
   * Runs the health checks again as soon as the run in progress (if any) is over; while failures keep
   * coming, at most once a second (a store failing every statement must not run the checks back to back).
   */
  #refreshSoon(): void {
    if (!this.lifecycle.ready || this.lifecycle.draining) return;
    if (this.#refresh.running) {
      this.#refresh.again = true;
      return;
    }
    this.#refresh.running = true;
    void (async () => {
      try {
        for (let first = true; first || this.#refresh.again; first = false) {
          if (!first) await this.clock.sleep(Math.min(1000, this.config.health.refresh_interval));
          if (this.lifecycle.draining) break;
          this.#refresh.again = false;
          await this.health.idle();
          await this.health.run();
        }
      } catch (err) {
        this.logger.error.error({ err: errorMessage(err) }, 'health refresh failed');
      } finally {
        this.#refresh.running = false;
      }
    })();
  }

  /**
   * A `node:http` handler for prodmon's routes; calls `next` for other paths (Express/Connect style),
   * and for every path before `start()`. Every request passed on to `next` is recorded (see PassOn).
   */
  handler = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void => {
    if (next !== undefined && (this.#http === undefined || !this.#owned(req.url))) {
      this.#passOn.record(req, res);
      next();
      return;
    }
    if (!this.#http) {
      res.statusCode = 503;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'unhealthy', error: 'prodmon is not started' }));
      return;
    }
    this.#http.handler(req, res, next);
  };

  /** Listens on the configured (or given) host and port; returns the URL. */
  async listen(host = this.config.server.host, port = this.config.server.port): Promise<string> {
    return this.http.listen({ host, port });
  }

  /**
   * Stops gracefully: readiness fails first, then after the drain delay the server stops accepting
   * and finishes in-flight requests, loops stop, and the store and logs are closed.
   */
  async stop(opts: { drainDelayMs?: number } = {}): Promise<void> {
    this.lifecycle.draining = true;
    const drain = opts.drainDelayMs ?? this.config.health.drain_delay;
    if (drain > 0 && this.lifecycle.ready) await this.clock.sleep(drain);
    if (this.#http) await this.#http.app.close();
    // No push comes any more: every held minute is written, and the journal left empty.
    await this.#openMinutes?.close();
    this.#openMinutes = null;
    await Promise.all(this.#loops.map((l) => l.stop()));
    await this.#scheduler?.stop(); // running jobs see their signal aborted and stop between steps
    await this.#alerting?.stop(); // waits for the evaluation in progress
    await this.#guard?.stop(); // direct sends in flight are aborted (their record stays)
    await this.#notifications?.stop(); // sends in flight are aborted and stay pending for the next start
    await this.#leadership?.stop(); // gives the lease up: another instance takes over at once
    await this.health.stop(); // cancels checks in progress, closes their connections
    await this.metrics.stop(); // final flush, before the store closes
    this.#loops = [];
    this.lifecycle.ready = false;
    if (this.#baseStore && this.#ownsStore) {
      await this.#baseStore.instances.remove(this.config.instanceId).catch(() => {});
      await this.#baseStore.close();
    }
    await this.logger.close();
  }
}

/**
 * An App from a config of the same shape as `prodmon.yaml` (parsed and validated now; a bad config
 * throws a ConfigError naming each field) or an already resolved one; with none, `prodmon.yaml` (or
 * `$PRODMON_CONFIG`) is read if present. The library's `createMonitor` is this, typed as the public
 * `Monitor`; tests and the CLI use the App's internals.
 */
export function createApp(
  config?: ConfigInput | ResolvedConfig,
  opts: AppOptions & Pick<LoadOptions, 'dataDir' | 'cwd' | 'env'> = {},
): App {
  const resolved =
    config && 'secrets' in config && 'paths' in config
      ? (config as ResolvedConfig)
      : config
        ? parseConfig(config, { ...opts, label: 'createMonitor config' })
        : loadConfig(opts);
  return new App(resolved, opts);
}
