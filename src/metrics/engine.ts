/**
 * The metrics engine of one monitor: the instrumentation of src/metrics/instrumentation.ts (recorder,
 * request and query instrumentation, system sampler, flush loop, push to a standalone prodmon), with
 * its flushes written to the store, the Prometheus export and the reads (performance summary, alert
 * windows). The agent (src/agent.ts) is the instrumentation without this layer.
 */
import type { WindowQuery, WindowValue } from '../alerting/sources.js';
import type { ResolvedConfig } from '../config/load.js';
import type { Clock } from '../core/clock.js';
import { Slicer } from '../core/slice.js';
import type { RollupRow } from '../domain/rollup.js';
import type { Store } from '../store/index.js';
import { Instrumentation, type MetricsLog } from './instrumentation.js';
import { applyRetention, type CompactionResult, compact, type RetentionResult } from './maintenance.js';
import { type HealthProviders, HISTOGRAM_BOUNDS_MS, PrometheusExporter } from './prometheus.js';
import { EntryGroups, readEntryPages, readRange, windowFromGroups, windowGroupOptions } from './read.js';
import { HOUR_MS, MINUTE_MS } from './rollup.js';
import { type PerformanceSummary, SUMMARY_METRICS, SummaryEntries, summarize } from './summary.js';
import type { SystemSource } from './system-source.js';
import { WindowBlocks } from './window-blocks.js';

export type { MetricsLog } from './instrumentation.js';

/** What the engine needs. */
export interface MetricsEngineOptions {
  /** `alerting.coalesce_window` paces the announcements of fresh data to the alert engine. */
  config: Pick<ResolvedConfig, 'metrics' | 'instanceId' | 'dataDir' | 'alerting'>;
  clock: Clock;
  log?: MetricsLog;
  /** System readings (default: Node built-ins). */
  systemSource?: SystemSource;
  /** Monotonic ms for request and query durations (default performance.now). */
  hrtime?: () => number;
  fetch?: typeof fetch;
}

/**
 * The coalescing window of data announcements is at least this many times the CPU time the
 * evaluations they started took (averaged), so that those evaluations take at most about 5 % of the
 * process's CPU however many series their rules read (see `MetricsEngine.dataWindow`).
 */
export const EVALUATION_PACE = 20;

/**
 * The paced window is at most this long (ms), so that fresh data waits at most about half a second
 * for its evaluation however expensive evaluations get: a breach on a busy hub pages in well under a
 * second. Past 25 ms of evaluation CPU per window the evaluations may then take more than 5 % of the
 * CPU; when each costs more than half of this, the window is twice their cost (at most half the CPU).
 */
export const MAX_PACED_WINDOW_MS = 500;

/**
 * Everything about metrics for one monitor: the instrumentation (src/metrics/instrumentation.ts) with
 * the store its flushes write to, the Prometheus export and the reads.
 */
export class MetricsEngine extends Instrumentation {
  readonly prometheus: PrometheusExporter;
  readonly #opts: MetricsEngineOptions;
  #store: Store | null = null;
  /** The minutes of alert windows, kept between evaluations (see `WindowBlocks`). */
  #blocks: WindowBlocks | null = null;
  /**
   * CPU time of the evaluations the announcements started (told by the alert engine, `evaluated`)
   * since the last window opened, and its running average (ms). CPU time, not wall time: on a busy
   * machine the wall time of an evaluation grows with the time the process waits for a core.
   */
  #evalMs = 0;
  #evalCost = 0;
  #offFeed: (() => void) | undefined;
  #feedFailing = false;

  constructor(opts: MetricsEngineOptions) {
    const m = opts.config.metrics;
    super({
      clock: opts.clock,
      log: opts.log,
      instance: opts.config.instanceId,
      maxSeries: m.max_series,
      maxBufferedRows: m.max_buffered_rows,
      errorStatuses: m.error_statuses,
      flushIntervalMs: m.flush_interval,
      sampleIntervalMs: m.sample_interval,
      diskPaths: m.disk_paths.length > 0 ? m.disk_paths : [opts.config.dataDir],
      histograms: HISTOGRAM_BOUNDS_MS,
      push: m.push ? { url: m.push.url, token: m.push.token, intervalMs: m.push.interval } : null,
      systemSource: opts.systemSource,
      hrtime: opts.hrtime,
      fetch: opts.fetch,
      dataWindowMs: () => this.dataWindow(),
    });
    this.#opts = opts;
    this.prometheus = new PrometheusExporter(this.recorder, () => ({
      bufferedRows: this.recorder.buffered,
      droppedRows: this.recorder.dropped,
      flushFailures: this.flushFailures,
      overflowed: this.recorder.overflowed,
      push: this.pusher
        ? { buffered: this.pusher.buffered, failures: this.pusher.failures, dropped: this.pusher.dropped }
        : null,
    }));
  }

  /** The store rollups are flushed to and read from (set by the app at start). */
  attachStore(store: Store): void {
    this.#store = store;
    // On PostgreSQL other instances write the same rows: they say which minutes (the rollup feed), and
    // a kept minute is read again after a minute in case a word was lost.
    const blocks = new WindowBlocks({
      store,
      recorder: this.recorder,
      clock: this.#opts.clock,
      ttlMs: store.rollupFeed ? MINUTE_MS : Number.POSITIVE_INFINITY,
    });
    this.#blocks = blocks;
    this.#offFeed?.();
    this.#offFeed = store.rollupFeed?.subscribe(
      (change) => {
        this.#feedFailing = false; // heard again (after a drop, `null`)
        if (change === null) return blocks.forgetAll();
        for (const [metric, buckets] of change) for (const b of buckets) blocks.forget(metric, b);
        // Another instance flushed, or stored a push: the rules of those metrics are evaluated now.
        this.notifyPushed(change.keys());
      },
      (err) => this.#feedTrouble(err),
    );
  }

  /** Flushes write to the store; until one is attached, rows stay in memory. */
  protected override sink(): ((rows: RollupRow[]) => Promise<unknown>) | null {
    const store = this.#store;
    return store
      ? async (rows) => {
          await store.rollups.upsert(rows);
          this.#blocks?.written(rows, true); // (the flush's sketches are in memory it reuses)
          await store.rollupFeed?.publish(rows);
        }
      : null;
  }

  /**
   * Tells the reads about rows this process took in (pushed rows it stored, or holds until their
   * minute settles: see src/metrics/open-minutes.ts), and the other processes sharing the store.
   */
  async written(rows: readonly RollupRow[]): Promise<void> {
    this.#blocks?.written(rows);
    await this.#store?.rollupFeed?.publish(rows);
  }

  /** A rollup feed that cannot send or listen is logged once until it works again. */
  #feedTrouble(err: unknown): void {
    if (this.#feedFailing) return;
    this.#feedFailing = true;
    this.#opts.log?.warn(
      { err: err instanceof Error ? err.message : String(err) },
      'rollup feed between instances failing; kept minutes are read again every minute meanwhile',
    );
  }

  override async stop(): Promise<void> {
    this.#offFeed?.();
    this.#offFeed = undefined;
    await super.stop();
  }

  /**
   * Announces pushed rollups (or rows another instance stored) to the onData listeners, through the
   * recorder's trigger, as recorded samples are: the alert engine evaluates the rules of those metrics
   * at once after a quiet period, and once per window while data keeps coming.
   */
  notifyPushed(metrics: Iterable<string>): void {
    this.recorder.notifyData(metrics);
  }

  /**
   * The coalescing window of data announcements, read as each window opens: `alerting.coalesce_window`,
   * or `EVALUATION_PACE` times the CPU time the evaluations that announcements started took since the
   * previous window (averaged with the window before), if longer, but at most `MAX_PACED_WINDOW_MS` (or
   * twice that CPU time, when it is longer still). A hub takes in pushes all the time
   * and each evaluation reads its rules' windows over every series: the window grows with that cost,
   * so those evaluations take at most about a twentieth of the process's CPU. The loop's evaluations
   * of every rule do not count: data does not start them, and their cost would stretch the window
   * after each one.
   */
  dataWindow(): number {
    this.#evalCost = (this.#evalCost + this.#evalMs) / 2;
    this.#evalMs = 0;
    const paced = Math.min(
      EVALUATION_PACE * this.#evalCost,
      Math.max(MAX_PACED_WINDOW_MS, 2 * this.#evalCost),
    );
    return Math.max(this.#opts.config.alerting.coalesce_window, paced);
  }

  /** The CPU time (ms) an evaluation that an announcement of data started took (see `dataWindow`). */
  evaluated(cpuMs: number): void {
    if (Number.isFinite(cpuMs) && cpuMs > 0) this.#evalMs += cpuMs;
  }

  /** Starts flushing, sampling and pushing (and Node's default metrics for /metrics, if enabled). */
  override start(): void {
    const m = this.#opts.config.metrics;
    if (m.prometheus.enabled && m.prometheus.default_metrics) this.prometheus.enableDefaultMetrics();
    super.start();
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
    const slicer = new Slicer();
    const reduced = new SummaryEntries(range.from, range.until);
    const src = { store: this.#store, recorder: this.recorder };
    for await (const page of readEntryPages(src, SUMMARY_METRICS, range, slicer)) reduced.add(page);
    return summarize(reduced.entries(), { ...range, since: q.since }, q.groupBy, reduced.instances);
  }

  /**
   * One value per group over a window, from every instance's stored rows and this process's unflushed
   * buckets (so detection never waits for a flush).
   */
  async windowValues(q: WindowQuery): Promise<WindowValue[]> {
    const range = readRange(q.since, q.until);
    const opts = windowGroupOptions(q);
    const slicer = new Slicer();
    // Windows of up to an hour (alert rules) from the kept minutes; longer ones from the store.
    if (this.#blocks && range.until - range.from <= HOUR_MS) {
      const groups = await this.#blocks.groups(q.metric, range, opts, slicer);
      return windowFromGroups(groups.groups(), q.aggregation, range);
    }
    const groups = new EntryGroups(opts);
    const src = { store: this.#store, recorder: this.recorder };
    for await (const page of readEntryPages(src, [q.metric], range, slicer)) groups.add(page);
    return windowFromGroups(groups.groups(), q.aggregation, range);
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
