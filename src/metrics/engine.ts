/**
 * The metrics engine of one monitor: recorder, request and query instrumentation, system sampler,
 * flushing to the store (and pushing to a standalone prodmon), the Prometheus export and the reads
 * (performance summary, alert windows, data events).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResolvedConfig } from '../config/load.js';
import { type Clock, systemClock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { type Loop, startLoop } from '../core/loop.js';
import type { Aggregation } from '../core/rollup.js';
import type { Labels } from '../core/types.js';
import { expressErrorHandler, expressMiddleware } from '../instrument/express.js';
import { type FastifyPlugin, fastifyPlugin } from '../instrument/fastify.js';
import { koaMiddleware } from '../instrument/koa.js';
import { instrumentMysql } from '../instrument/mysql.js';
import { type Handler, type WrapOptions, wrapHandler } from '../instrument/node-http.js';
import { instrumentPg } from '../instrument/pg.js';
import { type QueryLabels, QueryTimer } from '../instrument/query-timer.js';
import { instrumentSqlite } from '../instrument/sqlite.js';
import { RequestTracker, type RouteSource } from '../instrument/track.js';
import type { Store } from '../store/index.js';
import { applyRetention, type CompactionResult, compact, type RetentionResult } from './maintenance.js';
import { type HealthProviders, HISTOGRAM_BOUNDS_MS, PrometheusExporter } from './prometheus.js';
import { Pusher } from './push.js';
import { readEntries, readRange, type WindowValue, windowFromEntries } from './read.js';
import { type DataListener, Recorder } from './recorder.js';
import { SystemSampler } from './sampler.js';
import { type PerformanceSummary, SUMMARY_METRICS, summarize } from './summary.js';
import { NodeSystemSource, type SystemSource } from './system-source.js';

/** Where the engine reports its own trouble (pino loggers fit). */
export interface MetricsLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What the engine needs. */
export interface MetricsEngineOptions {
  config: Pick<ResolvedConfig, 'metrics' | 'instanceId' | 'dataDir'>;
  clock: Clock;
  log?: MetricsLog;
  /** System readings (default: Node built-ins). */
  systemSource?: SystemSource;
  /** Monotonic ms for request and query durations (default performance.now). */
  hrtime?: () => number;
  fetch?: typeof fetch;
}

/** A windowed read for alert rules. */
export interface WindowQuery {
  metric: string;
  /** Equality filter on labels. */
  labels?: Labels;
  groupBy?: readonly string[];
  aggregation: Aggregation;
  since: number;
  until: number;
}

const silent: MetricsLog = { warn() {}, error() {} };
/** Rows per write of a flush (the store's own statement size). */
const FLUSH_CHUNK = 200;

/** Everything about metrics for one monitor. */
export class MetricsEngine {
  readonly recorder: Recorder;
  readonly requests: RequestTracker;
  readonly queries: QueryTimer;
  readonly prometheus: PrometheusExporter;
  readonly sampler: SystemSampler;
  readonly pusher: Pusher | null;
  /** Failed flushes since start; `lastFlushError` says why the latest failed (null once one succeeds). */
  flushFailures = 0;
  lastFlushError: string | null = null;
  lastFlushAt: number | null = null;
  readonly #opts: MetricsEngineOptions;
  readonly #log: MetricsLog;
  #store: Store | null = null;
  #loop: Loop | null = null;
  #flushing: Promise<number> | null = null;
  #lastPushError: string | null = null;

  constructor(opts: MetricsEngineOptions) {
    this.#opts = opts;
    this.#log = opts.log ?? silent;
    const m = opts.config.metrics;
    this.recorder = new Recorder({
      clock: opts.clock,
      instance: opts.config.instanceId,
      maxSeries: m.max_series,
      maxBufferedRows: m.max_buffered_rows,
      histograms: HISTOGRAM_BOUNDS_MS,
    });
    this.requests = new RequestTracker(this.recorder, { errorStatuses: m.error_statuses, now: opts.hrtime });
    this.queries = new QueryTimer(this.recorder, opts.hrtime);
    this.#syncWallClock();
    this.pusher = m.push
      ? new Pusher({
          url: m.push.url,
          token: m.push.token,
          intervalMs: m.push.interval,
          instance: opts.config.instanceId,
          clock: opts.clock,
          fetch: opts.fetch,
          onError: (err) => {
            // once per kind of failure, not every round (a success in between logs it again)
            const message = errorMessage(err);
            const key = `${message}|${this.pusher?.sent}`;
            if (key === this.#lastPushError) return;
            this.#lastPushError = key;
            this.#log.warn(
              { err: message, buffered: this.pusher?.buffered },
              'metrics push failed; will retry',
            );
          },
        })
      : null;
    this.prometheus = new PrometheusExporter(this.recorder, () => ({
      bufferedRows: this.recorder.buffered,
      droppedRows: this.recorder.dropped,
      flushFailures: this.flushFailures,
      overflowed: this.recorder.overflowed,
      push: this.pusher
        ? { buffered: this.pusher.buffered, failures: this.pusher.failures, dropped: this.pusher.dropped }
        : null,
    }));
    this.sampler = new SystemSampler({
      clock: opts.clock,
      recorder: this.recorder,
      source: opts.systemSource ?? new NodeSystemSource(),
      intervalMs: m.sample_interval,
      diskPaths: m.disk_paths.length > 0 ? m.disk_paths : [opts.config.dataDir],
      onError: (err) => this.#log.warn({ err: errorMessage(err) }, 'system sample failed'),
    });
  }

  /** The store rollups are flushed to and read from (set by the app at start). */
  attachStore(store: Store): void {
    this.#store = store;
  }

  /** Starts flushing, sampling and pushing. */
  start(): void {
    if (this.#loop) return;
    const m = this.#opts.config.metrics;
    if (m.prometheus.enabled && m.prometheus.default_metrics) this.prometheus.enableDefaultMetrics();
    this.#loop = startLoop({
      clock: this.#opts.clock,
      intervalMs: m.flush_interval,
      immediate: false,
      body: () => this.flush().then(() => {}),
      onError: () => {}, // flush() logs its own failures, once per outage
    });
    this.sampler.start();
    this.pusher?.start();
  }

  /** Stops the loops and writes (and pushes) what is left. */
  async stop(): Promise<void> {
    await this.#loop?.stop();
    this.#loop = null;
    await this.sampler.stop();
    await this.flush().catch(() => {});
    await this.pusher?.stop();
    this.recorder.close();
  }

  /** Writes changed rollups to the store now (and queues them for the push); returns the rows written. */
  flush(): Promise<number> {
    this.#flushing ??= this.#flush().finally(() => {
      this.#flushing = null;
    });
    return this.#flushing;
  }

  /**
   * On the system clock, requests and queries take their minute from the monotonic time they already
   * measured plus this offset (one clock call per request saved); refreshed at every flush.
   */
  #syncWallClock(): void {
    if (this.#opts.clock !== systemClock || this.#opts.hrtime) return;
    this.requests.wallOffset = systemClock.now() - this.requests.now();
    this.queries.wallOffset = this.requests.wallOffset;
  }

  async #flush(): Promise<number> {
    this.#syncWallClock();
    const store = this.#store;
    if (!store) return 0;
    const batch = this.recorder.collect();
    if (batch.size === 0) return 0;
    // A chunk at a time: only one chunk's encoded sketches are in memory (and one statement's worth).
    let failure: { err: unknown } | null = null;
    for (const rows of batch.chunks(FLUSH_CHUNK)) {
      this.pusher?.enqueue(rows); // the push goes on while the store is down
      if (failure) {
        if (this.pusher) continue;
        break;
      }
      try {
        await store.rollups.upsert(rows);
      } catch (err) {
        failure = { err };
      }
    }
    if (failure) {
      const { err } = failure;
      this.flushFailures++;
      if (this.lastFlushError === null) {
        this.#log.error(
          { err: errorMessage(err), rows: batch.size },
          'writing metrics to the store failed; keeping them in memory',
        );
      }
      this.lastFlushError = errorMessage(err);
      throw err;
    }
    batch.commit();
    if (this.lastFlushError !== null)
      this.#log.warn({ rows: batch.size }, 'writing metrics to the store works again');
    this.lastFlushError = null;
    this.lastFlushAt = this.#opts.clock.now();
    return batch.size;
  }

  // ---- instrumentation -------------------------------------------------------------------------

  /** Times one request; recorded when the response closes. */
  track(req: IncomingMessage, res: ServerResponse, route?: RouteSource): void {
    this.requests.track(req, res, route);
  }

  /** Express/Connect middleware. */
  middleware() {
    return expressMiddleware(this.requests);
  }

  /** Express error middleware that counts thrown errors, then passes them on. */
  errorHandler() {
    return expressErrorHandler(this.requests);
  }

  /** The Fastify plugin (`fastify.register(plugin)`). */
  get fastifyPlugin(): FastifyPlugin {
    return fastifyPlugin(this.requests);
  }

  /** Koa middleware. */
  koa() {
    return koaMiddleware(this.requests);
  }

  /** Wraps a node:http request listener. */
  wrap<Req extends IncomingMessage, Res extends ServerResponse>(
    handler: Handler<Req, Res>,
    opts?: WrapOptions,
  ) {
    return wrapHandler(this.requests, handler, opts);
  }

  /** Times every query of a pg Pool or Client. */
  instrumentPg<T>(poolOrClient: T, opts?: { name?: string }): T {
    return instrumentPg(this.queries, poolOrClient, opts);
  }

  /** Times every query of a mysql2 connection or pool (callback or promise API). */
  instrumentMysql<T>(connOrPool: T, opts?: { name?: string }): T {
    return instrumentMysql(this.queries, connOrPool, opts);
  }

  /** Times every statement of a better-sqlite3 database. */
  instrumentSqlite<T>(db: T, opts?: { name?: string }): T {
    return instrumentSqlite(this.queries, db, opts);
  }

  /** Times any call as a query (`name` is the database label, or give `{ db, operation }`). */
  timeQuery<T>(name: string | QueryLabels, fn: () => T): T {
    return this.queries.time(name, fn);
  }

  /** Records one sample of any metric. */
  record(metric: string, labels: Labels, value: number, error = false): void {
    this.recorder.record(metric, labels, value, error);
  }

  /** Plugs in sources of prodmon's own health for /metrics. */
  setProviders(p: HealthProviders): void {
    this.prometheus.setProviders(p);
  }

  // ---- reads -----------------------------------------------------------------------------------

  /** Performance of a period: per route and overall, slowest routes, queries, system resources. */
  async performanceSummary(q: {
    since: number;
    until: number;
    groupBy?: readonly string[];
  }): Promise<PerformanceSummary> {
    const range = readRange(q.since, q.until);
    const entries = await readEntries(
      { store: this.#store, recorder: this.recorder },
      SUMMARY_METRICS,
      range,
    );
    return summarize(entries, { ...range, since: q.since }, q.groupBy);
  }

  /**
   * One value per group over a window, from every instance's stored rows and this process's unflushed
   * buckets (so detection never waits for a flush).
   */
  async windowValues(q: WindowQuery): Promise<WindowValue[]> {
    const range = readRange(q.since, q.until);
    const entries = await readEntries({ store: this.#store, recorder: this.recorder }, [q.metric], range);
    return windowFromEntries(entries, q, range);
  }

  /** Calls `listener` (at most about every 250 ms) with the metrics that received data; returns an unsubscribe. */
  onData(listener: DataListener): () => void {
    return this.recorder.onData(listener);
  }

  /** Compacts minute rollups of whole hours into hourly ones. */
  compact(opts: { now: number }): Promise<CompactionResult> {
    return compact(this.#requireStore(), { now: opts.now, resolution: this.recorder.resolution });
  }

  /** Deletes rollups past retention (after compacting); `dryRun` only counts. */
  applyRetention(opts: { now: number; dryRun?: boolean }): Promise<RetentionResult> {
    const m = this.#opts.config.metrics;
    return applyRetention(this.#requireStore(), {
      now: opts.now,
      dryRun: opts.dryRun,
      retentionMs: m.retention,
      hourlyRetentionMs: m.hourly_retention,
      resolution: this.recorder.resolution,
    });
  }

  #requireStore(): Store {
    if (!this.#store) throw new Error('metrics: no store attached (start the monitor first)');
    return this.#store;
  }
}
