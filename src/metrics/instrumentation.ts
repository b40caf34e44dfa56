/**
 * What records in a user's process: the recorder, request and query instrumentation (every adapter),
 * the system sampler, the flush loop and the push to a standalone prodmon. It loads none of the
 * packages of the rest of prodmon (no zod, prom-client, Kysely or store driver), so the agent
 * (`prodmon/agent`, src/agent.ts) is this and nothing more; the MetricsEngine of a full monitor adds the
 * store, the Prometheus export and the reads on top.
 * Where flushed rows go is the subclass's `sink()`: null keeps them in memory (no store attached yet).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Clock, systemClock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { type Loop, startLoop } from '../core/loop.js';
import type { Labels } from '../domain/labels.js';
import type { RollupRow } from '../domain/rollup.js';
import { expressErrorHandler, expressMiddleware } from '../instrument/express.js';
import { type FastifyPlugin, fastifyPlugin } from '../instrument/fastify.js';
import { koaMiddleware } from '../instrument/koa.js';
import { instrumentMysql } from '../instrument/mysql.js';
import { type Handler, type WrapOptions, wrapHandler } from '../instrument/node-http.js';
import { instrumentPg } from '../instrument/pg.js';
import { type QueryLabels, QueryTimer } from '../instrument/query-timer.js';
import { instrumentSqlite } from '../instrument/sqlite.js';
import { RequestTracker, type RouteSource } from '../instrument/track.js';
import { Pusher } from './push.js';
import { type DataListener, Recorder } from './recorder.js';
import { SystemSampler } from './sampler.js';
import { NodeSystemSource, type SystemSource } from './system-source.js';

/** Where the engine reports its own trouble (pino loggers fit). */
export interface MetricsLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What the instrumentation needs (already validated). */
export interface InstrumentationOptions {
  clock: Clock;
  log?: MetricsLog;
  /** This process's name in stored and pushed rows. */
  instance: string;
  maxSeries: number;
  maxBufferedRows: number;
  errorStatuses: '5xx' | '4xx+5xx';
  flushIntervalMs: number;
  sampleIntervalMs: number;
  diskPaths: readonly string[];
  /** Histogram upper bounds (ms) kept per series of these metrics, for a Prometheus export (default none). */
  histograms?: Readonly<Record<string, readonly number[]>>;
  /** Push to a standalone prodmon. */
  push?: { url: string; token: string; intervalMs: number } | null;
  /** System readings (default: Node built-ins). */
  systemSource?: SystemSource;
  /** Monotonic ms for request and query durations (default performance.now). */
  hrtime?: () => number;
  /** Transport for the push (default node:http/https; the global fetch loads undici, which costs memory). */
  fetch?: typeof fetch;
  /** The coalescing window of onData announcements (see `RecorderOptions.dataWindowMs`). */
  dataWindowMs?: number | (() => number);
}

const silent: MetricsLog = { warn() {}, error() {} };
/** The base's sink: rows are already with the pusher. */
const pushOnly = async (): Promise<void> => {};
/** Rows per write of a flush (the store's own statement size). */
const FLUSH_CHUNK = 200;

/** Recording in one process: instrumentation, sampler, flush loop and push. */
export class Instrumentation {
  readonly recorder: Recorder;
  readonly requests: RequestTracker;
  readonly queries: QueryTimer;
  readonly sampler: SystemSampler;
  readonly pusher: Pusher | null;
  /** Failed flushes since start; `lastFlushError` says why the latest failed (null once one succeeds). */
  flushFailures = 0;
  lastFlushError: string | null = null;
  lastFlushAt: number | null = null;
  readonly #log: MetricsLog;
  readonly #opts: InstrumentationOptions;
  #loop: Loop | null = null;
  #flushing: Promise<number> | null = null;
  #lastPushError: string | null = null;

  constructor(opts: InstrumentationOptions) {
    this.#opts = opts;
    this.#log = opts.log ?? silent;
    this.recorder = new Recorder({
      clock: opts.clock,
      instance: opts.instance,
      maxSeries: opts.maxSeries,
      maxBufferedRows: opts.maxBufferedRows,
      histograms: opts.histograms ?? {},
      dataWindowMs: opts.dataWindowMs,
    });
    this.requests = new RequestTracker(this.recorder, {
      errorStatuses: opts.errorStatuses,
      now: opts.hrtime,
    });
    this.queries = new QueryTimer(this.recorder, opts.hrtime);
    this.#syncWallClock();
    const push = opts.push;
    this.pusher = push
      ? new Pusher({
          url: push.url,
          token: push.token,
          intervalMs: push.intervalMs,
          instance: opts.instance,
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
    this.sampler = new SystemSampler({
      clock: opts.clock,
      recorder: this.recorder,
      source: opts.systemSource ?? new NodeSystemSource(),
      intervalMs: opts.sampleIntervalMs,
      diskPaths: opts.diskPaths,
      onError: (err) => this.#log.warn({ err: errorMessage(err) }, 'system sample failed'),
    });
  }

  /**
   * Where a flush writes its rows (the store), or null to keep them in memory. The base writes nowhere
   * but the push: rows are handed to the pusher and forgotten.
   */
  protected sink(): ((rows: RollupRow[]) => Promise<unknown>) | null {
    return pushOnly;
  }

  /** Starts flushing, sampling and pushing. */
  start(): void {
    if (this.#loop) return;
    this.#loop = startLoop({
      clock: this.#opts.clock,
      intervalMs: this.#opts.flushIntervalMs,
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
    const write = this.sink();
    if (!write) return 0;
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
        await write(rows);
      } catch (err) {
        failure = { err };
        batch.detach(); // the failed write may still hold these bytes
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

  /**
   * Calls `listener` with the metrics that received data: at once after a quiet period, then at most
   * once per coalescing window; returns an unsubscribe.
   */
  onData(listener: DataListener): () => void {
    return this.recorder.onData(listener);
  }
}
