/**
 * The cap on open alerts per rule (`alerting.max_alerts_per_rule`): a rule breaching for more label
 * sets than the cap keeps the worst ones as alerts (by severity, then how far past the threshold) and
 * one summary alert (labels `overflow: "true"`) counting the rest. The count is exact at every
 * evaluation: each breaching label set without an alert of its own is counted, none is forgotten. The
 * summary's count (its value), severity and worst members follow the data; it resolves once every
 * breaching label set has an alert again, keeping the last count it stood for. Label sets counted by the summary get their own alert (starting pending
 * afresh) as soon as the rule has room.
 */
import { newId } from '../core/ids.js';
import type { AlertEvent, StoredAlert } from '../domain/alert.js';
import { SEVERITIES, type Severity } from '../domain/alert.js';
import type { EvalState } from './evaluate.js';
import type { GroupContext } from './group.js';
import { labelsText } from './message.js';
import { event, markInhibited, notifyCarrier, notifyTransition, type Plan, readBook } from './plan.js';
import { decide, newBook, recordNotification, recordSeverity } from './policy.js';
import { type AlertRule, fingerprint, type Level } from './rules.js';

/** The label of a rule's summary alert. */
export const OVERFLOW_LABELS = { overflow: 'true' } as const;

/** The fingerprint of a rule's summary alert. */
export function overflowFingerprint(rule: string): string {
  return fingerprint(rule, OVERFLOW_LABELS);
}

/** How many worst label sets beyond the cap the summary's metadata names. */
const WORST_KEPT = 10;

const rank = (s: Severity) => SEVERITIES.indexOf(s);

function distance(a: StoredAlert): number {
  if (a.value === null) return Number.NEGATIVE_INFINITY;
  return a.threshold === null ? a.value : Math.abs(a.value - a.threshold);
}

/** New alerts worst first: severity, then distance past the threshold, then labels (deterministic). */
function worstFirst(a: Plan, b: Plan): number {
  return (
    rank(b.alert.severity) - rank(a.alert.severity) ||
    distance(b.alert) - distance(a.alert) ||
    a.alert.fingerprint.localeCompare(b.alert.fingerprint)
  );
}

/** The plans of one rule's evaluation, held to the cap. */
export class CappedPlans {
  readonly #rule: AlertRule;
  readonly #cap: number;
  readonly #ctx: GroupContext;
  readonly #fp: string;
  readonly #kept: Plan[] = [];
  readonly #candidates: Plan[] = [];
  #open: number;

  /** `openCount`: the rule's open alerts before this evaluation (its summary included). */
  constructor(rule: AlertRule, cap: number, ctx: GroupContext, openCount: number) {
    this.#rule = rule;
    this.#cap = cap;
    this.#ctx = ctx;
    this.#fp = overflowFingerprint(rule.name);
    this.#open = openCount - (ctx.open.has(this.#fp) ? 1 : 0);
  }

  /** Whether a fingerprint is the summary's (the engine leaves it to `finish`). */
  owns(fp: string): boolean {
    return fp === this.#fp;
  }

  /** Adds a group's plan: a change of an open alert is kept; a new alert waits for `finish`. */
  add(p: Plan): void {
    if (p.insert) this.#candidates.push(p);
    else {
      if (p.alert.status === 'resolved') this.#open--;
      this.#kept.push(p);
    }
  }

  /**
   * The plans to commit: the changes of open alerts, the worst new alerts the cap has room for, and
   * the summary's plan. `dataSeen`: the evaluation had data for at least one label set (without any,
   * the summary neither changes nor resolves, until no data for `auto_resolve_after` makes it stale).
   */
  finish(dataSeen: boolean): Plan[] {
    const room = Math.max(0, this.#cap - this.#open);
    let admitted = this.#candidates;
    let beyond: Plan[] = [];
    if (this.#candidates.length > room) {
      const sorted = [...this.#candidates].sort(worstFirst);
      admitted = sorted.slice(0, room);
      beyond = sorted.slice(room);
    }
    const summary = this.#summary(beyond, dataSeen);
    return [...this.#kept, ...admitted, ...(summary ? [summary] : [])];
  }

  #summary(beyond: Plan[], dataSeen: boolean): Plan | null {
    const { now } = this.#ctx;
    const prev = this.#ctx.open.get(this.#fp);
    if (beyond.length === 0) {
      if (!prev) return null;
      if (dataSeen) return this.#resolve(prev, 'every breaching label set has an alert of its own', 'auto');
      const book = readBook(prev);
      if (now - book.eval.lastDataAt >= this.#rule.staleAfterMs)
        return this.#resolve(prev, 'no data', 'stale');
      return null;
    }
    return this.#fire(prev, beyond);
  }

  #fire(prev: StoredAlert | undefined, beyond: Plan[]): Plan {
    const { now, policy } = this.#ctx;
    const rule = this.#rule;
    const count = beyond.length;
    const severity = beyond.reduce<Severity>(
      (w, p) => (rank(p.alert.severity) > rank(w) ? p.alert.severity : w),
      beyond[0]!.alert.severity,
    );
    const worst = beyond.slice(0, WORST_KEPT).map((p) => ({
      labels: p.alert.labels,
      value: p.alert.value,
      severity: p.alert.severity,
    }));
    const first = worst[0]!;
    const firstLabels = labelsText(first.labels);
    const message =
      `${count.toLocaleString('en-US')} more label set${count === 1 ? '' : 's'} of ${rule.name} breaching ` +
      `beyond the cap of ${this.#cap} alerts per rule (worst: ${firstLabels || 'no labels'}` +
      `${first.value !== null ? ` at ${first.value}` : ''})`;
    const level: Level = severity === (rule.severity.critical ?? 'critical') ? 'critical' : 'warning';
    const evalState: EvalState = {
      status: 'firing',
      level,
      breachSince: prev ? readBook(prev).eval.breachSince : now,
      criticalSince: null,
      clearSince: null,
      lowerSince: null,
      lastDataAt: now,
      value: count,
    };
    const base: StoredAlert = prev
      ? { ...prev }
      : {
          id: newId(now, 'al_'),
          rule: rule.name,
          fingerprint: this.#fp,
          type: rule.type,
          severity,
          status: 'firing',
          message,
          value: count,
          threshold: null,
          labels: { ...OVERFLOW_LABELS },
          metadata: {},
          createdAt: now,
          updatedAt: now,
          firingAt: now,
          resolvedAt: null,
          resolution: null,
          state: {},
        };
    const before = prev ? readBook(prev) : undefined;
    const alert: StoredAlert = {
      ...base,
      severity,
      message,
      value: count,
      metadata: { ...base.metadata, overflow: { count, cap: this.#cap, worst } },
    };
    const inhibitChanged = markInhibited(
      alert,
      this.#ctx.inhibitedBy?.({
        rule: rule.name,
        type: rule.type,
        severity,
        labels: alert.labels,
        fingerprint: this.#fp,
      }) ?? null,
    );
    let book = before?.notify ?? newBook(this.#ctx.refireBlock(this.#fp).carry);
    let stateEvent: AlertEvent | null = null;
    if (!prev) stateEvent = event(alert, 'firing', now, { count });
    else if (prev.severity !== severity)
      stateEvent = event(alert, rank(severity) > rank(prev.severity) ? 'escalated' : 'deescalated', now, {
        from: prev.severity,
        count,
      });
    if (!prev || prev.severity !== severity) book = recordSeverity(book, severity, now);
    const muted = this.#ctx.mutedBy(alert.labels);
    const inhibitor = alert.metadata.inhibited_by;
    const decision = decide(alert, book, now, muted.length > 0, policy, Boolean(inhibitor));
    const plan = this.#notify(alert, book, decision, stateEvent, now);
    const changed =
      !prev ||
      plan.events.length > 0 ||
      inhibitChanged ||
      prev.value !== count ||
      JSON.stringify(before?.notify) !== JSON.stringify(readBook(plan.alert).notify);
    const persistedAt = changed ? now : (prev?.state.persistedAt ?? now);
    plan.alert.state = { ...plan.alert.state, eval: evalState, persistedAt };
    if (changed) plan.alert.updatedAt = now;
    return { ...plan, insert: !prev, persist: changed };
  }

  #resolve(prev: StoredAlert, reason: string, kind: 'auto' | 'stale'): Plan {
    const { now, policy } = this.#ctx;
    const alert: StoredAlert = {
      ...prev,
      status: 'resolved',
      resolvedAt: now,
      updatedAt: now,
      message: `${this.#rule.name} is back under the cap of ${this.#cap} alerts per rule`,
      resolution: { kind, by: 'prodmon', at: now, reason },
    };
    markInhibited(alert, null);
    const book = readBook(prev).notify;
    const decision = decide(alert, book, now, this.#ctx.mutedBy(prev.labels).length > 0, policy);
    const ev = event(alert, 'resolved', now, { resolution: kind, reason });
    return { ...this.#notify(alert, book, decision, ev, now), insert: false, persist: true };
  }

  /** The transition to hand over (if the policy says so), recorded in the book and the event. */
  #notify(
    alert: StoredAlert,
    book: ReturnType<typeof newBook>,
    decision: ReturnType<typeof decide>,
    stateEvent: AlertEvent | null,
    now: number,
  ): Omit<Plan, 'insert' | 'persist'> {
    let carrier = stateEvent;
    let transition: Plan['transition'] = null;
    let notify = book;
    if (decision && 'notify' in decision) {
      const kind = decision.notify;
      carrier ??= notifyCarrier(alert, decision, now);
      notify = recordNotification(book, kind, alert.severity, now);
      alert.state = { ...alert.state, notify };
      transition = notifyTransition(carrier, alert, decision, now);
    } else if (carrier) {
      carrier.detail.notified = false;
      if (decision && 'suppressed' in decision) carrier.detail.suppressed = decision.suppressed;
    }
    alert.state = { ...alert.state, notify };
    return { alert, events: carrier ? [carrier] : [], transition };
  }
}
