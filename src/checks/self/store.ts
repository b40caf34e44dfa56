/**
 * The `store` probe of the `self` check: what the store's watch reports (round trip, file identity and
 * integrity, failures seen by any operation), and while the store is failing, the `system` alert sent
 * without it (the direct path). Once the store works again, `self` stays unhealthy until the alert
 * engine has taken that alert over, so its resolution reaches whoever was told.
 */
import { join } from 'node:path';
import type { AlertEngine } from '../../alerting/engine.js';
import { thresholdOf } from '../../alerting/evaluate.js';
import { renderMessage } from '../../alerting/message.js';
import { severityOf } from '../../alerting/plan.js';
import { type AlertRule, fingerprint } from '../../alerting/rules.js';
import type { ResolvedConfig } from '../../config/load.js';
import type { Clock } from '../../core/clock.js';
import { type DirectAlertSpec, DirectAlerts } from '../../notifiers/direct.js';
import { alertLink } from '../../notifiers/message.js';
import type { ChannelRuntime } from '../../notifiers/outbox/worker.js';
import type { Store } from '../../store/index.js';
import type { StoreReport, StoreWatch, WatchLog } from '../../store/watch.js';
import type { HealthService } from '../service.js';
import type { SelfProbe, SelfProbeResult } from '../types.js';

/**
 * What the alert engine raises when the `self` check named `check.name` is unhealthy with `error`: the
 * first rule on that check's status (the built-in `health_check` unless replaced or disabled), its
 * critical level. Null when no rule covers it.
 */
export function selfAlertSpec(
  rules: readonly AlertRule[],
  check: { name: string; critical: boolean },
  error: string,
): DirectAlertSpec | null {
  const rule = rules.find(
    (r) =>
      r.source.kind === 'check' &&
      r.source.field === 'status' &&
      (r.source.check === '*' || r.source.check === check.name) &&
      !r.source.exceptKinds?.includes('self'),
  );
  if (!rule) return null;
  const labels = { check: check.name };
  const extras = { checkCritical: check.critical, status: 'unhealthy', error, reason: `: ${error}` };
  const severity = severityOf(rule, 'critical', extras);
  const message = renderMessage(rule.message, {
    ...extras,
    value: 2,
    threshold: thresholdOf(rule.condition, 'critical'),
    labels,
    rule: rule.name,
    severity,
    level: 'critical',
    window: rule.windowMs,
  });
  return { rule: rule.name, fingerprint: fingerprint(rule.name, labels), severity, labels, message };
}

/** A watch report as a self probe's result (its error in the detail, where the `self` check reads it). */
export function probeResult(r: StoreReport): SelfProbeResult {
  return { status: r.status, detail: { ...r.detail, ...(r.error ? { error: r.error } : {}) } };
}

/** The `store` self probe; see the module comment. */
export function storeProbe(o: {
  watch: StoreWatch;
  /** The direct path (absent: the alert goes through the store like any other). */
  direct?: DirectAlerts;
  /** The alert to send directly, for the `self` check's error. */
  spec?: (error: string) => DirectAlertSpec | null;
}): SelfProbe {
  return async () => {
    const r = await o.watch.probe();
    const result = probeResult(r);
    if (o.direct) {
      if (r.failing) {
        const error = r.error ?? 'the store is failing';
        o.direct.failing(o.spec?.(`store: unhealthy (${error})`) ?? null, error);
      } else {
        const hold = o.direct.recovered();
        if (hold.holding) return { status: 'unhealthy', detail: { ...r.detail, error: hold.detail } };
      }
    }
    return result;
  };
}

/** What the app gives the guard. */
export interface StoreGuardOptions {
  config: ResolvedConfig;
  clock: Clock;
  store: Store;
  /** The instance that leads: the only one that repairs the store and sends the direct alert. */
  isLeader: () => boolean;
  /** The configured channels (as built, not wrapped). */
  channels: ReadonlyMap<string, ChannelRuntime>;
  log: WatchLog;
  /** A store operation failed at once: run the health checks now. */
  onFault: () => void;
}

/**
 * The app's side of watching its store: the watch configured (schedule, repairs, logs), the direct
 * path, and, once the alert engine and the health service exist, the `store` self probe.
 */
export class StoreGuard {
  readonly direct: DirectAlerts;
  readonly #o: StoreGuardOptions;

  constructor(o: StoreGuardOptions) {
    this.#o = o;
    const { config, store } = o;
    store.watch.configure({
      clock: o.clock,
      log: o.log,
      integrityIntervalMs: config.store.driver === 'sqlite' ? config.store.integrity_check_interval : 0,
      repair: true,
      repairBlocker: () => this.#repairBlocker(),
    });
    store.watch.onFault(o.onFault);
    const hcFor = config.alerting.health_checks.for;
    this.direct = new DirectAlerts({
      clock: o.clock,
      channels: o.channels,
      routes: config.notifications.channels,
      link: (id) => alertLink(config, id),
      attemptTimeoutMs: config.notifications.outbox.attempt_timeout,
      // Long enough for the engine to fire the `self` alert once it sees it (after the rule's `for`).
      holdMs:
        Math.max(30_000, 3 * config.health.refresh_interval) +
        (typeof hcFor === 'number' ? hcFor : (hcFor?.critical ?? 0)),
      file: join(config.dataDir, 'store-alert.json'),
      mayNotify: o.isLeader,
      log: o.log,
    });
  }

  /** For the alert engine's `adoptAlertId`: the direct alert is taken over under its id. */
  adoptId = (fingerprint: string): string | undefined => this.direct.adoptId(fingerprint);

  /** Follows the engine's alerts and registers the `store` self probe. */
  attach(engine: AlertEngine, health: HealthService): void {
    engine.onChange((a) => this.direct.noteChange(a));
    const selfCheck = health.checks.find((c) => c.kind === 'self');
    health.addSelfProbe(
      'store',
      storeProbe({
        watch: this.#o.store.watch,
        direct: this.direct,
        spec: (error) => (selfCheck ? selfAlertSpec(engine.rules, selfCheck, error) : null),
      }),
    );
  }

  /** Aborts direct sends in flight (their record stays). */
  stop(): Promise<void> {
    return this.direct.stop();
  }

  /**
   * Only a lone leader repairs: another process still holding the old file would, on closing it,
   * remove the new file's WAL (SQLite deletes `<path>-wal` by name).
   */
  async #repairBlocker(): Promise<string | null> {
    const { config, clock, store } = this.#o;
    if (!this.#o.isLeader()) return 'only the leading instance repairs the store';
    const recent = clock.now() - 3 * config.health.refresh_interval;
    const others = (await store.instances.list(recent)).filter((i) => i.id !== config.instanceId);
    return others.length > 0
      ? `other prodmon processes use this file (${others.map((i) => `${i.id}, pid ${i.pid}`).join('; ')}): stop them all, then start one`
      : null;
  }
}
