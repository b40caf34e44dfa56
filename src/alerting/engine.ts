/**
 * The alert engine: evaluates every rule in a background loop (`evaluation_interval`) and the rules of
 * a metric as soon as fresh data for it arrives (coalesced), keeps one alert per (rule, labels), and
 * commits each transition with its history and its notification hand-over in one transaction.
 * Evaluations run one at a time. State lives in the store, so a restart resumes without storms.
 */
import type { AlertingConfig } from '../config/sections/alerting.js';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { TransitionSink } from '../core/transition.js';
import type { Alert, HealthCheckResult, Labels } from '../core/types.js';
import type { Store } from '../store/index.js';
import type { StoredAlert } from '../store/repos/alerts.js';
import { levelOf, nextDeadline } from './evaluate.js';
import { evaluateGroup, type GroupContext, planOrphan, readGroups } from './group.js';
import { MaintenanceCalendar } from './maintenance.js';
import { type Mutes, Muting } from './mutes.js';
import { OpenAlerts } from './open-set.js';
import { type Plan, publicAlert, readBook } from './plan.js';
import { nextNotifyAt, type PolicyOptions } from './policy.js';
import { logResolution, resolveAlert } from './resolve.js';
import { handOverOwed, LAST_EVALUATION_KEY, restoreOpenAlerts } from './restore.js';
import { type AlertRule, buildRules, fingerprint } from './rules.js';
import { SecurityCounters } from './security.js';
import type { AlertingLogger, CheckSource, MetricSource, SecurityEvent } from './sources.js';

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
  sink?: TransitionSink;
  logger?: AlertingLogger;
  /** `notifications.escalate_after` (0 disables the `escalation` transition). */
  escalateAfterMs?: number;
  /** With several instances, only the leader evaluates (default: always). */
  isLeader?: () => boolean;
  /** Persist a change of an alert's value alone at most this often (default 60 s). */
  persistEveryMs?: number;
}

const NO_SINK: TransitionSink = { accept: async () => {} };
/** Lower bound of the loop's sleep, so a deadline in the past never spins it. */
const MIN_SLEEP_MS = 1000;

/** The alert engine; `start()` it, feed it data, `stop()` it. */
export class AlertEngine {
  readonly rules: readonly AlertRule[];
  readonly calendar: MaintenanceCalendar;
  readonly #o: AlertEngineOptions;
  readonly #sink: TransitionSink;
  readonly #policy: PolicyOptions;
  readonly #security: SecurityCounters;
  readonly #byName: Map<string, AlertRule>;
  readonly #byMetric = new Map<string, AlertRule[]>();
  readonly #open = new OpenAlerts();
  readonly #muting: Muting;
  /** Fingerprints that may not open again before a time (manual resolution). */
  readonly #blocked = new Map<string, number>();
  readonly #listeners = new Set<(alert: Alert, event: string) => void>();
  readonly #unsubscribe: (() => void)[] = [];
  #tail: Promise<unknown> = Promise.resolve();
  #pendingMetrics = new Set<string>();
  #metricsScheduled = false;
  #securityScheduled = false;
  #checksScheduled: HealthCheckResult[] | null = null;
  #startedAt: number | null = null;
  #owedScanFrom: number | null = null;
  #nextWake: number | null = null;
  #loop: { ctl: AbortController; done: Promise<void> } | null = null;

  constructor(opts: AlertEngineOptions) {
    this.#o = opts;
    this.#sink = opts.sink ?? NO_SINK;
    this.rules = buildRules(opts.config);
    this.calendar = new MaintenanceCalendar(opts.config.maintenance);
    this.#muting = new Muting(opts.store, this.calendar);
    this.#policy = {
      cooldownMs: opts.config.cooldown,
      repeatIntervalMs: opts.config.repeat_interval,
      escalateAfterMs: opts.escalateAfterMs ?? 0,
    };
    this.#security = new SecurityCounters(this.rules, opts.config.security.max_sources);
    this.#byName = new Map(this.rules.map((r) => [r.name, r]));
    for (const r of this.rules) {
      if (r.source.kind !== 'metric') continue;
      const list = this.#byMetric.get(r.source.metric) ?? [];
      list.push(r);
      this.#byMetric.set(r.source.metric, list);
    }
  }

  /** Restores open alerts from the store, records a gap after downtime, subscribes to data, starts the loop. */
  async start(opts: { loop?: boolean } = {}): Promise<void> {
    if (this.#startedAt !== null) return;
    const now = this.#o.clock.now();
    this.#startedAt = now;
    await this.#enqueue(() => this.#restore(now));
    const off = this.#o.metrics?.onData((metrics) => this.#onData(metrics));
    if (typeof off === 'function') this.#unsubscribe.push(off);
    const offChecks = this.#o.checks?.onResults?.((results) => this.#onResults(results));
    if (typeof offChecks === 'function') this.#unsubscribe.push(offChecks);
    if (opts.loop !== false) this.#startLoop();
  }

  /** Stops the loop and waits for the evaluation in progress. */
  async stop(): Promise<void> {
    for (const off of this.#unsubscribe.splice(0)) off();
    if (this.#loop) {
      this.#loop.ctl.abort(new Error('alert engine stopped'));
      await this.#loop.done;
      this.#loop = null;
    }
    await this.#tail.catch(() => {});
    this.#startedAt = null;
  }

  /** Runs one full evaluation now (every rule, checks, security, owed notices). */
  evaluateNow(): Promise<void> {
    return this.#enqueue(() => this.#tick());
  }

  /** Resolves once every evaluation queued so far has finished. */
  async idle(): Promise<void> {
    for (let t = this.#tail; ; t = this.#tail) {
      await t;
      if (t === this.#tail) return;
    }
  }

  /** Evaluates the rules that read these metrics now (what fresh data triggers). */
  evaluateMetrics(metrics: Iterable<string>): Promise<void> {
    const set = new Set(metrics);
    return this.#enqueue(() => this.#evaluateMetrics(set, this.#o.clock.now()));
  }

  /** Records a security event (`monitor.security(event)`): logged, counted, evaluated at once. */
  security(event: SecurityEvent): void {
    if (!event || typeof event.kind !== 'string' || !event.kind) return;
    const now = this.#o.clock.now();
    const { kind, source, ip, user, detail } = event;
    this.#o.logger?.security?.warn({ event: 'security', kind, source, ip, user, detail }, `security event: ${kind}`);
    if (this.#security.record(event, now).length === 0 || this.#startedAt === null) return;
    if (this.#securityScheduled) return;
    this.#securityScheduled = true;
    void this.#enqueue(async () => {
      this.#securityScheduled = false;
      if (!this.#leader()) return;
      const t = this.#o.clock.now();
      const mutes = await this.#muting.at(t);
      for (const rule of this.#security.rules) await this.#evaluateRule(rule, t, mutes);
    }).catch((err) => this.#logError(err, 'security evaluation failed'));
  }

  /** Resolves an alert by hand (audited; the resolution is notified if the firing was). */
  async resolve(r: { id: string; reason: string; actor: string }): Promise<StoredAlert> {
    return this.#enqueue(async () => {
      const now = this.#o.clock.now();
      const resolved = await this.#o.store.transaction((tx) => resolveAlert(tx, { ...r, now, sink: this.#sink }));
      this.#open.drop(resolved.fingerprint);
      this.#blocked.set(resolved.fingerprint, now + this.#policy.cooldownMs);
      logResolution(this.#o.logger, resolved);
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
  async mutedBy(a: { rule: string; labels: Labels; type: Alert['type'] }, now = this.#o.clock.now()): Promise<string[]> {
    return this.#muting.mutedBy(a, await this.#muting.at(now, true), now);
  }

  // -- internals ---------------------------------------------------------------------------------

  #enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn);
    this.#tail = run.catch(() => {});
    return run;
  }

  #startLoop(): void {
    const ctl = new AbortController();
    const { clock, config } = this.#o;
    const done = (async () => {
      while (!ctl.signal.aborted) {
        await this.evaluateNow().catch((err) => this.#logError(err, 'alert evaluation failed'));
        const now = clock.now();
        let wait = config.evaluation_interval;
        if (this.#nextWake !== null) wait = Math.min(wait, Math.max(MIN_SLEEP_MS, this.#nextWake - now));
        try {
          await clock.sleep(wait, ctl.signal);
        } catch {
          break;
        }
      }
    })();
    this.#loop = { ctl, done };
  }

  #onData(metrics: ReadonlySet<string>): void {
    if (this.#startedAt === null) return;
    for (const m of metrics) if (this.#byMetric.has(m)) this.#pendingMetrics.add(m);
    if (this.#pendingMetrics.size === 0 || this.#metricsScheduled) return;
    this.#metricsScheduled = true;
    void this.#enqueue(async () => {
      this.#metricsScheduled = false;
      const set = this.#pendingMetrics;
      this.#pendingMetrics = new Set();
      await this.#evaluateMetrics(set, this.#o.clock.now());
    }).catch((err) => this.#logError(err, 'alert evaluation on fresh data failed'));
  }

  #onResults(results: HealthCheckResult[]): void {
    if (this.#startedAt === null) return;
    const scheduled = this.#checksScheduled !== null;
    this.#checksScheduled = results;
    if (scheduled) return;
    void this.#enqueue(async () => {
      const fresh = this.#checksScheduled ?? [];
      this.#checksScheduled = null;
      if (!this.#leader()) return;
      const now = this.#o.clock.now();
      const mutes = await this.#muting.at(now);
      for (const rule of this.rules) if (rule.source.kind === 'check') await this.#evaluateRule(rule, now, mutes, fresh);
    }).catch((err) => this.#logError(err, 'alert evaluation of check results failed'));
  }

  #leader(): boolean {
    return this.#o.isLeader ? this.#o.isLeader() : true;
  }

  async #restore(now: number): Promise<void> {
    const gapAfter = Math.max(2 * this.#o.config.evaluation_interval, 60_000);
    const { gap, open } = await restoreOpenAlerts(this.#o.store, now, gapAfter);
    if (!gap) return;
    this.#o.logger?.app?.warn(
      { from: new Date(gap.from).toISOString(), to: new Date(gap.to).toISOString(), open },
      'alert evaluation resumed after a gap; the gap is recorded as unknown',
    );
  }

  async #tick(): Promise<void> {
    const { clock, store } = this.#o;
    const now = clock.now();
    if (!this.#leader()) {
      this.#open.clear();
      return;
    }
    this.#open.replaceWith(await store.alerts.listOpen());
    const mutes = await this.#muting.at(now, true);
    const results = await this.#checkResults();
    for (const rule of this.rules) {
      try {
        await this.#evaluateRule(rule, now, mutes, results);
      } catch (err) {
        this.#logError(err, `rule ${rule.name} failed`);
      }
    }
    await this.#orphans(now, mutes);
    await this.#handOverOwed(now);
    await store.state.set(LAST_EVALUATION_KEY, now, now);
    this.#nextWake = this.#computeNextWake(now, mutes);
  }

  async #evaluateMetrics(metrics: ReadonlySet<string>, now: number): Promise<void> {
    if (!this.#leader()) return;
    const mutes = await this.#muting.at(now);
    for (const m of metrics) {
      for (const rule of this.#byMetric.get(m) ?? []) {
        try {
          await this.#evaluateRule(rule, now, mutes);
        } catch (err) {
          this.#logError(err, `rule ${rule.name} failed`);
        }
      }
    }
  }

  /** Evaluates one rule over all its groups, then its open alerts that got no data. */
  async #evaluateRule(rule: AlertRule, now: number, mutes: Mutes, results?: HealthCheckResult[]): Promise<void> {
    const ctx: GroupContext = {
      now,
      mutedBy: (labels) => this.#muting.mutedBy({ rule: rule.name, labels, type: rule.type }, mutes, now),
      open: this.#open.map,
      policy: this.#policy,
      persistEveryMs: this.#o.persistEveryMs ?? 60_000,
      refireBlock: (fp) => this.#refireBlock(fp, now),
      commit: (plan) => this.#commit(plan),
    };
    const seen = new Set<string>();
    const groups = await readGroups(rule, now, { metrics: this.#o.metrics, security: this.#security, results });
    for (const g of groups) {
      // Fast path: nothing open for the rule and no breach, nothing to do (no fingerprint to build).
      if (this.#open.countOf(rule.name) === 0 && (g.value === null || levelOf(rule.condition, g.value) === null)) continue;
      const fp = fingerprint(rule.name, g.labels);
      seen.add(fp);
      await evaluateGroup(rule, g.labels, fp, { value: g.value, at: g.at }, ctx, g.extras);
    }
    if (this.#open.countOf(rule.name) === 0 || (results === undefined && rule.source.kind === 'check')) return;
    // A security count of 0 is data, once the engine has watched a whole window.
    const watched = rule.source.kind === 'security' && now - (this.#startedAt ?? now) >= rule.windowMs;
    for (const fp of this.#open.fingerprintsOf(rule.name)) {
      const a = this.#open.get(fp);
      if (seen.has(fp) || !a) continue;
      await evaluateGroup(rule, a.labels, fp, { value: watched ? 0 : null }, ctx);
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

  async #refireBlock(fp: string, now: number): Promise<{ until: number; carry?: StoredAlert }> {
    const until = this.#blocked.get(fp);
    if (until !== undefined) {
      if (until > now) return { until };
      this.#blocked.delete(fp);
    }
    const last = await this.#o.store.alerts.lastByFingerprint(fp);
    if (!last || last.status !== 'resolved') return { until: 0, carry: last };
    if (last.resolution?.kind === 'manual' && last.resolvedAt !== null) {
      const blockedUntil = last.resolvedAt + this.#policy.cooldownMs;
      if (blockedUntil > now) {
        this.#blocked.set(fp, blockedUntil);
        return { until: blockedUntil };
      }
    }
    return { until: 0, carry: last };
  }

  async #commit(plan: Plan): Promise<void> {
    const a = plan.alert;
    if (plan.persist) {
      const gone = new Error('gone');
      try {
        await this.#o.store.transaction(async (tx) => {
          if (plan.insert) await tx.alerts.insert(a);
          else if (!(await tx.alerts.updateOpen(a))) throw gone;
          for (const e of plan.events) await tx.alerts.addEvent(e);
          if (plan.transition) await this.#sink.accept(tx, plan.transition, plan.transition.at);
        });
      } catch (err) {
        if (err === gone) {
          this.#open.drop(a.fingerprint); // resolved elsewhere (by hand) meanwhile
          return;
        }
        throw err;
      }
    }
    if (a.status === 'resolved') this.#open.drop(a.fingerprint);
    else this.#open.set(a);
    for (const e of plan.events) this.#emit(a, e.kind);
  }

  /** Open alerts whose rule is gone from the config resolve (and tell whoever was told of them). */
  async #orphans(now: number, mutes: Mutes): Promise<void> {
    for (const a of [...this.#open.values()]) {
      if (this.#byName.has(a.rule)) continue;
      await this.#commit(planOrphan(a, now, this.#muting.mutedBy(a, mutes, now), this.#policy));
    }
  }

  /** Hands over resolutions marked owed by a process without a sink (the CLI). */
  async #handOverOwed(now: number): Promise<void> {
    const since = this.#owedScanFrom ?? now - 7 * 86_400_000;
    for (const a of await handOverOwed(this.#o.store, this.#sink, since, now)) this.#blocked.delete(a.fingerprint);
    this.#owedScanFrom = now - 5 * 60_000;
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
