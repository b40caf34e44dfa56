/**
 * The HealthCheckService: runs every check in parallel in the background (every `health.refresh_interval`),
 * keeps the latest result of each in memory for the endpoints, stores results for history (every
 * `health.persist_interval` and on every status change), and hosts the custom checks and self probes.
 */
import type { ResolvedConfig } from '../config/load.js';
import { scrub } from '../config/mask.js';
import type { Clock } from '../core/clock.js';
import { errorMessage, ProdmonError } from '../core/errors.js';
import { type Loop, startLoop } from '../core/loop.js';
import { type HealthCheckResult, type HealthStatus, overallStatus } from '../domain/health.js';
import { buildChecks } from './build.js';
import { type CustomCheckFn, type CustomCheckOptions, customCheck } from './custom/index.js';
import { ResultPersister } from './persist.js';
import type { CheckResultRepository } from './repository.js';
import { runCheck } from './runner.js';
import type { HealthCheck, SelfProbe, SelfProbeSource } from './types.js';
import { scrubResult } from './util.js';

type LogFn = (obj: object, msg?: string) => void;

/** Where the service logs: check transitions (info/warn) and prodmon's own failures (error). */
export interface HealthLog {
  info?: LogFn;
  warn: LogFn;
  error: LogFn;
}

/** The latest picture: overall status and the latest result of each check. */
export interface HealthReport {
  status: HealthStatus;
  /** When the overall status last changed (null before the first result). */
  since: number | null;
  checks: HealthCheckResult[];
  /** Checks without a result yet. */
  pending: string[];
  /** When the last complete run ended (null before the first). */
  lastRunAt: number | null;
}

/** How to build the service. */
export interface HealthServiceOptions {
  config: ResolvedConfig;
  clock: Clock;
  /** The checks (default: built from the config, with the built-ins). */
  checks?: HealthCheck[];
  log?: HealthLog;
  /** Called with every result as it comes (a metrics sink records latency and status). */
  onResult?: (result: HealthCheckResult) => void;
  /** Monotonic ms for response times (default performance.now). */
  now?: () => number;
}

/** Runs, caches and stores the health checks; see the module comment. */
export class HealthService implements SelfProbeSource {
  readonly #config: ResolvedConfig;
  readonly #clock: Clock;
  readonly #log: HealthLog | undefined;
  readonly #onResult: ((r: HealthCheckResult) => void) | undefined;
  readonly #now: (() => number) | undefined;
  readonly #configured: HealthCheck[];
  readonly #custom = new Map<string, HealthCheck>();
  readonly #probes = new Map<string, SelfProbe>();
  readonly #results = new Map<string, HealthCheckResult>();
  readonly #listeners = new Set<(results: HealthCheckResult[]) => void>();
  readonly #stopping = new AbortController();
  readonly #persister: ResultPersister;
  #inflight: Promise<HealthCheckResult[]> | null = null;
  #loop: Loop | null = null;
  #status: { status: HealthStatus; pendingCritical: boolean } | null = null;
  #since: number | null = null;
  #lastOverall: HealthStatus | null = null;
  #lastRunAt: number | null = null;
  #closed = false;

  constructor(opts: HealthServiceOptions) {
    this.#config = opts.config;
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.#onResult = opts.onResult;
    this.#now = opts.now;
    this.#persister = new ResultPersister(opts.config.health.persist_interval, opts.log, (t) =>
      this.#scrub(t),
    );
    this.#configured = opts.checks ?? buildChecks(opts.config, { clock: opts.clock, self: this });
  }

  /** Where results are stored for history (`store.checks`). */
  attachStore(store: { checks: Pick<CheckResultRepository, 'insert'> }): void {
    this.#persister.attach(store.checks);
  }

  /** Every check: configured, built-in, then registered. */
  get checks(): readonly HealthCheck[] {
    return [...this.#configured, ...this.#custom.values()];
  }

  /** The self probes (read by the `self` check). */
  probes(): ReadonlyMap<string, SelfProbe> {
    return this.#probes;
  }

  /** Adds a probe of prodmon's own state to the `self` check; returns a function that removes it. */
  addSelfProbe(name: string, probe: SelfProbe): () => void {
    this.#probes.set(name, probe);
    return () => {
      if (this.#probes.get(name) === probe) this.#probes.delete(name);
    };
  }

  /**
   * Registers a custom check (`monitor.health.register('payments', async (signal) => ...)`); it runs now
   * when the service is started, then with the others. Returns a function that removes it.
   */
  register(name: string, fn: CustomCheckFn, opts: CustomCheckOptions = {}): () => void {
    if (!name || this.checks.some((c) => c.name === name)) {
      throw new ProdmonError('PRODMON_E_CONFLICT', `a health check named "${name}" already exists`);
    }
    const check = customCheck(name, fn, opts);
    this.#custom.set(name, check);
    this.#status = null;
    if (this.#loop && !this.#closed) void this.#runSome([check]);
    return () => {
      if (this.#custom.get(name) !== check) return;
      this.#custom.delete(name);
      this.#results.delete(name);
      this.#status = null;
    };
  }

  /** Runs every check now (joining a run in progress); updates the cache and stores what is due. */
  async run(opts: { persistAll?: boolean } = {}): Promise<HealthReport> {
    if (this.#closed) return this.report(); // stopped: the checks' connections are closed
    if (this.#inflight) {
      const results = await this.#inflight;
      if (opts.persistAll) await this.#persister.persist(results, true);
      return this.report();
    }
    const p = this.#runSome(this.checks, opts.persistAll ?? false);
    this.#inflight = p;
    try {
      await p;
      this.#lastRunAt = this.#clock.now();
    } finally {
      if (this.#inflight === p) this.#inflight = null;
    }
    return this.report();
  }

  async #runSome(checks: readonly HealthCheck[], persistAll = false): Promise<HealthCheckResult[]> {
    const results = await Promise.all(
      checks.map(async (check) => {
        const raw = await runCheck(check, {
          clock: this.#clock,
          now: this.#now,
          signal: this.#stopping.signal,
          onCheckError: (c, err) =>
            this.#log?.error(
              { check: c.name, kind: c.kind, err: this.#scrub(errorMessage(err)) },
              'health check threw (a prodmon bug, not the target)',
            ),
        });
        const r = this.#sanitize(raw);
        if (this.#closed || !this.checks.includes(check)) return r;
        this.#record(r);
        return r;
      }),
    );
    if (!this.#closed) {
      await this.#persister.persist(results, persistAll);
      for (const fn of this.#listeners) {
        try {
          fn(results);
        } catch (err) {
          this.#log?.error({ err: errorMessage(err) }, 'a health results listener failed');
        }
      }
    }
    return results;
  }

  #record(r: HealthCheckResult): void {
    const prev = this.#results.get(r.name);
    this.#results.set(r.name, r);
    this.#status = null;
    if (prev && prev.status !== r.status) {
      const fn = r.status === 'healthy' ? this.#log?.info : this.#log?.warn;
      fn?.(
        { check: r.name, kind: r.kind, from: prev.status, to: r.status, error: r.error },
        `health check ${r.name} is ${r.status}`,
      );
    }
    try {
      this.#onResult?.(r);
    } catch (err) {
      this.#log?.error({ err: errorMessage(err) }, 'the health result sink failed');
    }
    const overall = this.#computed().status;
    if (overall !== this.#lastOverall) {
      this.#lastOverall = overall;
      this.#since = r.checkedAt;
    }
  }

  #computed(): { status: HealthStatus; pendingCritical: boolean } {
    if (this.#status) return this.#status;
    const known: HealthCheckResult[] = [];
    let pendingCritical = false;
    for (const c of this.checks) {
      const r = this.#results.get(c.name);
      if (r) known.push(r);
      else if (c.critical) pendingCritical = true;
    }
    this.#status = { status: overallStatus(known), pendingCritical };
    return this.#status;
  }

  /**
   * The overall status from the cache, at once; null while a critical check has no result yet (use
   * {@link waitStatus}).
   */
  cachedStatus(): HealthStatus | null {
    const s = this.#computed();
    return s.pendingCritical ? null : s.status;
  }

  /**
   * The overall status for `/health/`: from the cache, or, while a critical check has no result yet,
   * after waiting at most `budgetMs` for it; still missing then, it counts as unhealthy.
   */
  async waitStatus(budgetMs = this.#config.health.budget): Promise<HealthStatus> {
    const now = this.cachedStatus();
    if (now) return now;
    if (this.#inflight && budgetMs > 0) {
      const ctl = new AbortController();
      await Promise.race([
        this.#inflight.catch(() => {}),
        this.#clock.sleep(budgetMs, ctl.signal).catch(() => {}),
      ]);
      ctl.abort();
    }
    return this.cachedStatus() ?? 'unhealthy';
  }

  /** The latest result of each check (for `/metrics`, alerting and the dashboard). */
  latest(): HealthCheckResult[] {
    return this.checks.map((c) => this.#results.get(c.name)).filter((r): r is HealthCheckResult => !!r);
  }

  /** The whole cached picture. */
  report(): HealthReport {
    const pending = this.checks.filter((c) => !this.#results.has(c.name)).map((c) => c.name);
    const s = this.#computed();
    return {
      status: s.pendingCritical ? 'unhealthy' : s.status,
      since: this.#since,
      checks: this.latest(),
      pending,
      lastRunAt: this.#lastRunAt,
    };
  }

  /** Calls `fn` with the results of every run; returns an unsubscribe. */
  onResults(fn: (results: HealthCheckResult[]) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Starts the background refresh (first run at once, then every `health.refresh_interval`). */
  start(): void {
    if (this.#loop || this.#closed) return;
    this.#loop = startLoop({
      clock: this.#clock,
      intervalMs: this.#config.health.refresh_interval,
      body: async () => {
        await this.run();
      },
      onError: (err) => this.#log?.error({ err: errorMessage(err) }, 'health refresh failed'),
    });
  }

  /** Resolves when no run is in progress. */
  async idle(): Promise<void> {
    while (this.#inflight) await this.#inflight.catch(() => {});
  }

  /** Stops the refresh, cancels checks in progress, and closes every check's connections. */
  async stop(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopping.abort(new Error('prodmon is stopping'));
    await this.#loop?.stop();
    this.#loop = null;
    await this.idle();
    await Promise.all(
      this.checks.map((c) =>
        c
          .close?.()
          .catch((err) =>
            this.#log?.warn({ check: c.name, err: errorMessage(err) }, 'closing a health check failed'),
          ),
      ),
    );
  }

  #scrub(text: string): string {
    return scrub(text, this.#config.secrets ?? []);
  }

  #sanitize(r: HealthCheckResult): HealthCheckResult {
    return scrubResult(r, this.#config.secrets ?? []);
  }
}
