/**
 * The alert engine: evaluates every rule in a background loop (`evaluation_interval`) and the rules of
 * a metric as soon as fresh data for it arrives, the health check rules as soon as results arrive and
 * the security rules as soon as an event counts (each through a `Trigger`: at once after a quiet
 * period, then once per `coalesce_window`), keeps one alert per (rule, labels), and
 * commits each transition with its history and its notification hand-over in one transaction.
 * Evaluations run one at a time. State lives in the store, so a restart resumes without storms.
 */
import type { AlertingConfig } from '../config/sections/alerting.js';
import type { Clock } from '../core/clock.js';
import { processCpuMs } from '../core/cpu.js';
import { errorMessage } from '../core/errors.js';
import { Slicer } from '../core/slice.js';
import { Trigger } from '../core/trigger.js';
import { DEFAULT_ALERT_WINDOW_MS, RecentDeploys } from '../deployments/annotate.js';
import type { Alert, StoredAlert } from '../domain/alert.js';
import type { Deployment } from '../domain/deployment.js';
import type { HealthCheckResult } from '../domain/health.js';
import type { Labels } from '../domain/labels.js';
import type { Repos, Store } from '../store/index.js';
import { CappedPlans } from './cap.js';
import { commitPlans } from './commit.js';
import { levelOf, nextDeadline } from './evaluate.js';
import { type GroupContext, planGroup, planOrphan, readGroups } from './group.js';
import { Inhibition } from './inhibit.js';
import { MaintenanceCalendar } from './maintenance.js';
import { type Mutes, Muting } from './mutes.js';
import { OpenAlerts } from './open-set.js';
import { type Plan, publicAlert, readBook } from './plan.js';
import { nextNotifyAt, type PolicyOptions } from './policy.js';
import { RecentResolutions } from './recent.js';
import { resolveAlert } from './resolve.js';
import { handOverOwed, LAST_EVALUATION_KEY, restoreOpenAlerts } from './restore.js';
import { type AlertRule, buildRules, fingerprint } from './rules.js';
import { coalesced, SerialQueue, startWakingLoop } from './schedule.js';
import { SecurityCounters } from './security.js';
import type { AlertingLogger, CheckSource, MetricSource, SecurityEvent } from './sources.js';
import type { TransitionSink } from './transition.js';

export { LAST_EVALUATION_KEY };

/** What the engine needs. */
export interface AlertEngineOptions {
  store: Store;
  clock: Clock;
  config: AlertingConfig;
  /** The metrics engine (null: only health checks and security events are evaluated). */
  metrics: MetricSource | null;
  /** Fresh health check results (default: the newest stored ones). */
  checks?: CheckSource;
  /** The first stage of the notification pipeline (default: drops every transition). */
  sink?: TransitionSink<Repos>;
  /** Checks in the same transaction that this instance still leads (leader-only writes); not used for manual resolutions. */
  fence?: (tx: Repos) => Promise<unknown>;
  logger?: AlertingLogger;
  /** `notifications.escalate_after` (0 disables the `escalation` transition). */
  escalateAfterMs?: number;
  /** With several instances, only the leader evaluates (default: always). */
  isLeader?: () => boolean;
  /** Calls back on every change of leadership; returns an unsubscribe. Gaining it evaluates every rule at once. */
  onLeaderChange?: (fn: (leader: boolean) => void) => () => void;
  /** Persist a change of an alert's value alone at most this often (default 5 min). */
  persistEveryMs?: number;
  /** CPU time of this process in ms (default `process.cpuUsage()`), to measure evaluations of fresh data. */
  cpuTime?: () => number;
  /**
   * The id a new alert of a fingerprint takes, when it must be a given one: an alert already sent
   * without the store (the store was failing) is taken over under its id, so its resolution matches.
   */
  adoptAlertId?: (fingerprint: string) => string | undefined;
  /**
   * `deployments.alert_window`: an alert that starts firing this long or less after a deploy marker
   * keeps it in its metadata (default 30 min; 0 turns that off).
   */
  deployWindowMs?: number;
}

const NO_SINK: TransitionSink<Repos> = { accept: async () => {} };
/**
 * A change of an open alert's value alone is written at most this often (the API shows the engine's
 * fresher values; a restart restarts the staleness clock anyway).
 */
const PERSIST_EVERY_MS = 5 * 60_000;
/** Lower bound of the loop's sleep, so a deadline in the past never spins it. */
const MIN_SLEEP_MS = 1000;
/** The first retry of a failed full evaluation comes this soon; each further one waits twice as long, up to the interval. */
const FIRST_RETRY_MS = 1000;

/** The alert engine; `start()` it, feed it data, `stop()` it. */
export class AlertEngine {
  readonly rules: readonly AlertRule[];
  readonly calendar: MaintenanceCalendar;
  readonly #o: AlertEngineOptions;
  readonly #sink: TransitionSink<Repos>;
  /** The sink for the engine's own (leader-only) transitions: fenced when a fence is given. */
  readonly #leaderSink: TransitionSink<Repos>;
  readonly #policy: PolicyOptions;
  readonly #security: SecurityCounters;
  readonly #byName: Map<string, AlertRule>;
  readonly #byMetric = new Map<string, AlertRule[]>();
  readonly #open = new OpenAlerts();
  readonly #muting: Muting;
  readonly #recent: RecentResolutions;
  readonly #deploys: RecentDeploys;
  #deployReadFailing = false;
  readonly #listeners = new Set<(alert: Alert, event: string) => void>();
  readonly #unsubscribe: (() => void)[] = [];
  // Each evaluation pass holds delivery of what it hands over until it ends (one message per group).
  readonly #queue = new SerialQueue(() => this.#o.sink?.hold?.());
  readonly #inhibition: Inhibition;
  /** Fresh data: the metrics engine's trigger paces it; queued here, merged while it waits. */
  readonly #onData: (metrics: ReadonlySet<string>) => void;
  /** Fresh health check results (the newest of each check until evaluated), and their trigger. */
  readonly #results = new Map<string, HealthCheckResult>();
  readonly #resultsTrigger: Trigger;
  /** Evaluates the security rules when an event counts for one. */
  readonly #securityTrigger: Trigger;
  readonly #onLeading: (gained: true) => void;
  #startedAt: number | null = null;
  #scanFrom: number | null = null;
  #nextWake: number | null = null;
  #loop: { stop(): Promise<void>; reschedule(): void } | null = null;
  /** A full evaluation was skipped (not leading) or failed since the last one: the next chance makes it up. */
  #behind = false;
  /** After a failed full evaluation: when the loop tries again, and how long it waited last. */
  #retryAt: number | null = null;
  #retryMs = 0;

  constructor(opts: AlertEngineOptions) {
    this.#o = opts;
    this.#sink = opts.sink ?? NO_SINK;
    const fence = opts.fence;
    const sink = this.#sink;
    this.#leaderSink = fence
      ? {
          async accept(tx, t, now) {
            await fence(tx);
            await sink.accept(tx, t, now);
          },
        }
      : sink;
    this.rules = buildRules(opts.config);
    this.#inhibition = new Inhibition(opts.config.inhibit_rules);
    this.calendar = new MaintenanceCalendar(opts.config.maintenance);
    this.#muting = new Muting(opts.store, this.calendar);
    this.#policy = {
      cooldownMs: opts.config.cooldown,
      repeatIntervalMs: opts.config.repeat_interval,
      escalateAfterMs: opts.escalateAfterMs ?? 0,
    };
    this.#recent = new RecentResolutions(opts.config.cooldown);
    this.#deploys = new RecentDeploys(
      (since, until) => opts.store.deployments.list({ since, until, limit: 1000 }),
      opts.deployWindowMs ?? DEFAULT_ALERT_WINDOW_MS,
    );
    this.#security = new SecurityCounters(this.rules, opts.config.security.max_sources);
    this.#byName = new Map(this.rules.map((r) => [r.name, r]));
    for (const r of this.rules) {
      if (r.source.kind !== 'metric') continue;
      const list = this.#byMetric.get(r.source.metric) ?? [];
      list.push(r);
      this.#byMetric.set(r.source.metric, list);
    }
    const now = () => this.#o.clock.now();
    // Fresh data for several metrics in a burst is evaluated once, rule by rule; the CPU time it took
    // is told to the metrics engine, which paces its announcements by it.
    const cpuTime = opts.cpuTime ?? processCpuMs;
    this.#onData = coalesced<ReadonlySet<string>>(
      this.#queue,
      (a, b) => new Set([...(a ?? []), ...[...b].filter((m) => this.#byMetric.has(m))]),
      async (metrics) => {
        const t0 = cpuTime();
        try {
          await this.#evaluateRules(
            [...metrics].flatMap((m) => this.#byMetric.get(m) ?? []),
            now(),
          );
        } finally {
          this.#o.metrics?.evaluated?.(Math.max(0, cpuTime() - t0));
        }
      },
      (err) => this.#logError(err, 'alert evaluation on fresh data failed'),
    );
    const checkRules = this.rules.filter((r) => r.source.kind === 'check');
    const windowMs = opts.config.coalesce_window;
    this.#resultsTrigger = new Trigger({
      clock: opts.clock,
      windowMs,
      // The results are taken when the evaluation starts: what arrived while it was queued goes too.
      run: () =>
        this.#queue.run(() => {
          if (this.#results.size === 0) return Promise.resolve();
          const results = [...this.#results.values()];
          this.#results.clear();
          return this.#evaluateRules(checkRules, now(), results);
        }),
      onError: (err) => this.#logError(err, 'alert evaluation of check results failed'),
    });
    this.#securityTrigger = new Trigger({
      clock: opts.clock,
      windowMs,
      run: () => this.#queue.run(() => this.#evaluateRules(this.#security.rules, now())),
      onError: (err) => this.#logError(err, 'security evaluation failed'),
    });
    this.#onLeading = coalesced<true>(
      this.#queue,
      () => true,
      () => this.#evaluateAll(),
      (err) => this.#logError(err, 'alert evaluation on gaining leadership failed'),
    );
  }

  /** Restores open alerts from the store, records a gap after downtime, subscribes to data, starts the loop. */
  async start(opts: { loop?: boolean } = {}): Promise<void> {
    if (this.#startedAt !== null) return;
    const now = this.#o.clock.now();
    this.#startedAt = now;
    await this.#queue.run(() => this.#restore(now));
    const off = this.#o.metrics?.onData((metrics) => {
      if (this.#startedAt !== null && [...metrics].some((m) => this.#byMetric.has(m))) this.#onData(metrics);
    });
    if (typeof off === 'function') this.#unsubscribe.push(off);
    const offChecks = this.#o.checks?.onResults?.((results) => {
      if (this.#startedAt === null || results.length === 0) return;
      for (const r of results) this.#results.set(r.name, r);
      this.#resultsTrigger.fire();
    });
    if (typeof offChecks === 'function') this.#unsubscribe.push(offChecks);
    const offLeader = this.#o.onLeaderChange?.((leader) => leader && this.#onLeading(true));
    if (offLeader) this.#unsubscribe.push(offLeader);
    if (opts.loop === false) return;
    this.#loop = startWakingLoop({
      clock: this.#o.clock,
      intervalMs: this.#o.config.evaluation_interval,
      minSleepMs: MIN_SLEEP_MS,
      body: () => this.evaluateNow().catch((err) => this.#logError(err, 'alert evaluation failed')),
      wakeAt: () => this.#wakeAt(),
    });
  }

  /** Stops the loop and the triggers (what waits for a window is dropped), and waits for the evaluation in progress. */
  async stop(): Promise<void> {
    for (const off of this.#unsubscribe.splice(0)) off();
    this.#resultsTrigger.stop();
    this.#securityTrigger.stop();
    this.#results.clear();
    await this.#loop?.stop();
    this.#loop = null;
    await this.#queue.idle();
    this.#startedAt = null;
  }

  /** Runs one full evaluation now (every rule, checks, security, owed notices). */
  evaluateNow(): Promise<void> {
    return this.#queue.run(() => this.#evaluateAll());
  }

  /**
   * Resolves once every evaluation queued so far has finished, those that results and security events
   * start at once included (not the trailing ones waiting for the end of a window).
   */
  async idle(): Promise<void> {
    await Promise.all([this.#resultsTrigger.settled(), this.#securityTrigger.settled()]);
    await this.#queue.idle();
  }

  /** Evaluates the rules that read these metrics now (what fresh data triggers). */
  evaluateMetrics(metrics: Iterable<string>): Promise<void> {
    const rules = [...new Set(metrics)].flatMap((m) => this.#byMetric.get(m) ?? []);
    return this.#queue.run(() => this.#evaluateRules(rules, this.#o.clock.now()));
  }

  /**
   * Records a security event (`monitor.security(event)`): logged, counted, and evaluated at once after
   * a quiet period (else at the end of the coalescing window, with the events that came meanwhile).
   * `log: false` counts it without a log line (a caller bounding its lines, e.g. refused requests).
   */
  security(event: SecurityEvent, opts: { log?: boolean } = {}): void {
    if (!event || typeof event.kind !== 'string' || !event.kind) return;
    const now = this.#o.clock.now();
    const { kind, source, ip, user, detail } = event;
    if (opts.log !== false)
      this.#o.logger?.security?.warn(
        { event: 'security', kind, source, ip, user, detail },
        `security event: ${kind}`,
      );
    if (this.#security.record(event, now).length > 0 && this.#startedAt !== null)
      this.#securityTrigger.fire();
  }

  /**
   * Resolves an alert by hand (audited; the resolution is notified if the firing was). Called through
   * the alert actions (actions.ts), which write the log line.
   */
  async resolve(r: { id: string; reason: string; actor: string }): Promise<StoredAlert> {
    return this.#queue.run(async () => {
      const now = this.#o.clock.now();
      const resolved = await this.#o.store.transaction((tx) =>
        resolveAlert(tx, { ...r, now, sink: this.#sink }),
      );
      this.#open.drop(resolved.fingerprint);
      this.#recent.note(resolved);
      this.#emit(resolved, 'resolved');
      return resolved;
    });
  }

  /** Calls `fn` after every committed change of an alert; returns an unsubscribe. */
  onChange(fn: (alert: Alert, event: string) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** The open alerts as the engine sees them (including values not yet persisted). */
  openAlerts(): Alert[] {
    return [...this.#open.values()].map(publicAlert);
  }

  /** Silences and maintenance windows muting an alert at `now`. */
  async mutedBy(
    a: { rule: string; labels: Labels; type: Alert['type'] },
    now = this.#o.clock.now(),
  ): Promise<string[]> {
    return this.#muting.mutedBy(a, await this.#muting.at(now, true), now);
  }

  // -- internals ---------------------------------------------------------------------------------

  #leader(): boolean {
    return this.#o.isLeader ? this.#o.isLeader() : true;
  }

  async #restore(now: number): Promise<void> {
    const gapAfter = Math.max(2 * this.#o.config.evaluation_interval, 60_000);
    const { gap, open } = await restoreOpenAlerts(this.#o.store, now, gapAfter);
    for (const a of await this.#o.store.alerts.listResolvedSince(now - this.#o.config.cooldown))
      this.#recent.note(a);
    if (!gap) return;
    this.#o.logger?.app?.warn(
      { from: new Date(gap.from).toISOString(), to: new Date(gap.to).toISOString(), open },
      'alert evaluation resumed after a gap; the gap is recorded as unknown',
    );
  }

  /**
   * A full evaluation that leaves no gap: one skipped because this instance does not lead, or one that
   * failed (the store unreachable), leaves the engine behind, so that fresh data, gaining leadership or
   * the loop's retry (soon after a failure) evaluates every rule at once.
   */
  async #evaluateAll(): Promise<void> {
    if (!this.#leader()) {
      this.#behind = true;
      return this.#tick();
    }
    this.#behind = false;
    await this.#tick().catch(this.#fellBehind);
    this.#retryMs = 0;
    this.#retryAt = null;
  }

  /** Rethrows `err` after noting that an evaluation failed: the loop retries soon, fresh data evaluates everything. */
  readonly #fellBehind = (err: unknown): never => {
    this.#behind = true;
    this.#retryMs = Math.min(this.#o.config.evaluation_interval, Math.max(FIRST_RETRY_MS, 2 * this.#retryMs));
    this.#retryAt = this.#o.clock.now() + this.#retryMs;
    this.#loop?.reschedule();
    throw err;
  };

  /** When the loop wakes next: the earliest deadline of an open alert or mute, or the retry of a failed evaluation. */
  #wakeAt(): number | null {
    const wake = this.#nextWake;
    const retry = this.#retryAt;
    return wake === null ? retry : retry === null ? wake : Math.min(wake, retry);
  }

  async #tick(): Promise<void> {
    const { clock, store } = this.#o;
    const now = clock.now();
    if (!this.#leader()) {
      this.#open.clear();
      return;
    }
    this.#open.replaceWith(await store.alerts.listOpen());
    await this.#scanResolutions(now);
    const mutes = await this.#muting.at(now, true);
    const results = await this.#checkResults();
    const deploys = await this.#deployMarkers(now, true);
    const slicer = new Slicer(); // requests are served between rules once a slice has run its time
    for (const rule of this.rules) {
      await slicer.pause();
      try {
        await this.#evaluateRule(rule, now, mutes, deploys, results);
      } catch (err) {
        this.#logError(err, `rule ${rule.name} failed`);
      }
    }
    await this.#orphans(now, mutes);
    this.#recent.prune(now);
    await store.state.set(LAST_EVALUATION_KEY, now, now);
    this.#nextWake = this.#computeNextWake(now, mutes);
  }

  /** Evaluates some rules now (fresh data, check results, security events), if this instance leads. */
  async #evaluateRules(
    rules: readonly AlertRule[],
    now: number,
    results?: HealthCheckResult[],
  ): Promise<void> {
    if (rules.length === 0) return;
    // Not leading: remembered. Behind: every rule now, over everything that arrived meanwhile.
    if (!this.#leader() || this.#behind) return this.#evaluateAll();
    const mutes = await this.#muting.at(now).catch(this.#fellBehind);
    const deploys = await this.#deployMarkers(now);
    for (const rule of rules) {
      try {
        await this.#evaluateRule(rule, now, mutes, deploys, results);
      } catch (err) {
        this.#logError(err, `rule ${rule.name} failed`);
      }
    }
  }

  /** Evaluates one rule over all its groups, then its open alerts that got no data; commits in batches. */
  async #evaluateRule(
    rule: AlertRule,
    now: number,
    mutes: Mutes,
    deploys: readonly Deployment[],
    results?: HealthCheckResult[],
  ): Promise<void> {
    const ctx: GroupContext = {
      now,
      mutedBy: (labels) => this.#muting.mutedBy({ rule: rule.name, labels, type: rule.type }, mutes, now),
      open: this.#open.map,
      policy: this.#policy,
      persistEveryMs: this.#o.persistEveryMs ?? PERSIST_EVERY_MS,
      refireBlock: (fp) => this.#recent.lookup(fp, now),
      inhibitedBy: this.#inhibition.lookup(this.#open.values()),
      adoptId: this.#o.adoptAlertId,
      deployBefore: this.#deploys.lookup(deploys, now),
    };
    const openCount = this.#open.countOf(rule.name);
    const plans = new CappedPlans(rule, this.#o.config.max_alerts_per_rule, ctx, openCount);
    const add = (p: Plan | null) => p && plans.add(p);
    const seen = new Set<string>();
    const groups = await readGroups(rule, now, {
      metrics: this.#o.metrics,
      security: this.#security,
      results,
    });
    // Many groups (a rule over thousands of series) are planned in slices: the loop keeps answering.
    const slicer = new Slicer();
    for (const g of groups) {
      await slicer.pause();
      // Fast path: nothing open for the rule and no breach, nothing to do (no fingerprint to build).
      if (openCount === 0 && (g.value === null || levelOf(rule.condition, g.value) === null)) continue;
      const fp = fingerprint(rule.name, g.labels);
      seen.add(fp);
      add(planGroup(rule, g.labels, fp, { value: g.value, at: g.at }, ctx, g.extras));
    }
    if (openCount > 0 && !(results === undefined && rule.source.kind === 'check')) {
      // A security count of 0 is data, once the engine has watched a whole window.
      const watched = rule.source.kind === 'security' && now - (this.#startedAt ?? now) >= rule.windowMs;
      for (const fp of this.#open.fingerprintsOf(rule.name)) {
        const a = this.#open.get(fp);
        if (!seen.has(fp) && a && !plans.owns(fp))
          add(planGroup(rule, a.labels, fp, { value: watched ? 0 : null }, ctx));
      }
    }
    await this.#commit(plans.finish(groups.some((g) => g.value !== null)));
  }

  /**
   * The deploy markers of the last `deployments.alert_window`. A failed read costs only the annotation
   * (logged once until a read works again): alerts are evaluated and notified without it.
   */
  async #deployMarkers(now: number, force = false): Promise<readonly Deployment[]> {
    try {
      const markers = await this.#deploys.at(now, force);
      this.#deployReadFailing = false;
      return markers;
    } catch (err) {
      if (!this.#deployReadFailing)
        this.#logError(err, 'reading deploy markers failed; alerts firing meanwhile do not name a deploy');
      this.#deployReadFailing = true;
      return [];
    }
  }

  async #checkResults(): Promise<HealthCheckResult[] | undefined> {
    if (!this.rules.some((r) => r.source.kind === 'check')) return undefined;
    try {
      return this.#o.checks ? await this.#o.checks.latest() : await this.#o.store.checks.latest();
    } catch (err) {
      this.#logError(err, 'reading health check results failed');
      return undefined;
    }
  }

  /** Commits plans, then updates the in-memory view with what was written. */
  async #commit(plans: Plan[]): Promise<void> {
    if (plans.length === 0) return;
    const r = await commitPlans(this.#o.store, this.#leaderSink, plans);
    for (const p of r.committed) {
      const a = p.alert;
      if (a.status === 'resolved') {
        this.#open.drop(a.fingerprint);
        this.#recent.note(a);
      } else this.#open.set(a);
      for (const e of p.events) this.#emit(a, e.kind);
    }
    for (const p of r.gone) {
      // Resolved elsewhere (by hand) meanwhile: learn how, so a manual resolution holds off a re-fire.
      this.#open.drop(p.alert.fingerprint);
      const fresh = await this.#o.store.alerts.get(p.alert.id);
      if (fresh) this.#recent.note(fresh);
    }
    if (r.failed.length > 0) {
      const first = r.failed[0]!;
      this.#logError(
        first.err,
        `storing ${r.failed.length} alert change(s) failed (first: ${first.plan.alert.rule}); retried at the next evaluation`,
      );
    }
  }

  /** Open alerts whose rule is gone from the config resolve (and tell whoever was told of them). */
  async #orphans(now: number, mutes: Mutes): Promise<void> {
    const plans = [...this.#open.values()]
      .filter((a) => !this.#byName.has(a.rule))
      .map((a) => planOrphan(a, now, this.#muting.mutedBy(a, mutes, now), this.#policy));
    await this.#commit(plans);
  }

  /**
   * Learns the resolutions made since the last scan (by this or another process: HTTP, CLI) and hands
   * over those a process without a sink marked owed.
   */
  async #scanResolutions(now: number): Promise<void> {
    const PAGE = 1000;
    let from = this.#scanFrom ?? now - 7 * 86_400_000;
    for (;;) {
      const page = await this.#o.store.alerts.listResolvedSince(from, PAGE);
      for (const a of page) this.#recent.note(a);
      await handOverOwed(this.#o.store, this.#leaderSink, page, now);
      if (page.length < PAGE) break;
      const last = page[page.length - 1]!.resolvedAt ?? from;
      from = last > from ? last : from + 1;
    }
    this.#scanFrom = now - 5 * 60_000;
  }

  #computeNextWake(now: number, mutes: Mutes): number | null {
    let best: number | null = null;
    const consider = (t: number | null | undefined) => {
      if (t !== null && t !== undefined && t > now && (best === null || t < best)) best = t;
    };
    consider(this.#muting.nextEnd(mutes, now));
    for (const a of this.#open.values()) {
      const rule = this.#byName.get(a.rule);
      const book = readBook(a);
      if (rule) consider(nextDeadline(rule, book.eval));
      consider(nextNotifyAt(a, book.notify, this.#policy));
    }
    return best;
  }

  #emit(a: StoredAlert, event: string): void {
    if (this.#listeners.size === 0) return;
    const pub = publicAlert(a);
    for (const fn of this.#listeners) {
      try {
        fn(pub, event);
      } catch (err) {
        this.#logError(err, 'alert change listener failed');
      }
    }
  }

  #logError(err: unknown, msg: string): void {
    this.#o.logger?.error?.error({ err: errorMessage(err) }, msg);
  }
}
