/**
 * From an evaluation's transition to what the store must record, pure: the alert after it, the
 * history events, and the notification to hand over (if the policy says so). The engine only does the
 * I/O of committing a plan.
 */
import { newId } from '../core/ids.js';
import { DEPLOY_KEY, type DeployRef } from '../deployments/annotate.js';
import type { Alert, AlertEvent, Severity, StoredAlert } from '../domain/alert.js';
import type { Labels } from '../domain/labels.js';
import type { AlertTransition } from '../domain/transition.js';
import { clearThreshold, type EvalState, type Transition, thresholdOf } from './evaluate.js';
import { INHIBITED_BY, type InhibitSource } from './inhibit.js';
import { renderMessage } from './message.js';
import {
  type Decision,
  decide,
  type NotifyBook,
  newBook,
  type PolicyOptions,
  recordNotification,
  recordSeverity,
} from './policy.js';
import type { AlertRule, Level } from './rules.js';

/** The engine's bookkeeping in an alert's `state` column. */
export interface AlertBook {
  eval: EvalState;
  notify: NotifyBook;
}

/** The bookkeeping of a stored alert (tolerates alerts written by older versions or by hand). */
export function readBook(a: StoredAlert): AlertBook {
  const s = a.state as Partial<AlertBook>;
  const notify = { ...newBook(), ...(s.notify ?? {}) };
  const ev: EvalState = s.eval ?? {
    status: a.status === 'pending' ? 'pending' : 'firing',
    level: a.severity === 'critical' ? 'critical' : 'warning',
    breachSince: a.createdAt,
    criticalSince: null,
    clearSince: null,
    lowerSince: null,
    lastDataAt: a.updatedAt,
    value: a.value,
  };
  return { eval: ev, notify };
}

/** The alert without the engine's bookkeeping (what sinks and APIs see). */
export function publicAlert(a: StoredAlert | Alert): Alert {
  const { state: _state, ...rest } = a as StoredAlert;
  return rest;
}

/** Everything a plan needs besides the transition. */
export interface PlanInput {
  rule: AlertRule;
  labels: Labels;
  fingerprint: string;
  prev: StoredAlert | undefined;
  tr: Transition;
  now: number;
  /** Silences and maintenance windows muting this alert (empty: not muted). */
  mutedBy: string[];
  policy: PolicyOptions;
  /** Per-severity notification times of the fingerprint's previous incident (for the cooldown). */
  carry?: Partial<Record<Severity, number>>;
  /** Extra template variables and facts (a check's status and `critical` flag...). */
  extras?: Record<string, unknown>;
  /** Persist a change of value alone at most this often. */
  persistEveryMs: number;
  /** The firing alert inhibiting this one at its severity, if any (see inhibit.ts). */
  inhibitedBy?: (severity: Severity) => InhibitSource | null;
  /** The id of a new alert (default: a fresh one). */
  id?: string;
  /** The deploy marker an alert starting to fire now follows, if any (see deployments/annotate.ts). */
  deployBefore?: (labels: Labels) => DeployRef | null;
}

/** What to commit. */
export interface Plan {
  alert: StoredAlert;
  insert: boolean;
  events: AlertEvent[];
  transition: AlertTransition | null;
  /** Whether anything must be written (false: only the in-memory copy changes). */
  persist: boolean;
}

/** The severity of a level of a rule (a check rule's critical level follows the check's flag). */
export function severityOf(rule: AlertRule, level: Level, extras?: Record<string, unknown>): Severity {
  if (level === 'warning') return rule.severity.warning;
  return rule.severity.critical ?? (extras?.checkCritical === false ? 'high' : 'critical');
}

const RESOLUTION_REASON = {
  auto: 'the condition cleared',
  stale: 'no data',
  pending: 'the condition cleared before the alert fired',
} as const;

/** A history event of an alert as it is now. */
export function event(
  a: StoredAlert,
  kind: string,
  now: number,
  detail: Record<string, unknown> = {},
): AlertEvent {
  return {
    id: newId(now, 'ev_'),
    alertId: a.id,
    at: now,
    kind,
    status: a.status,
    severity: a.severity,
    value: a.value,
    threshold: a.threshold,
    actor: null,
    detail,
  };
}

/** A decision to notify (see `decide`). */
type NotifyDecision = Extract<Decision, { notify: unknown }>;

/**
 * The event that carries a notification when the alert's state did not change: a reminder or an
 * escalation under its own kind, any other transition as `notified`.
 */
export function notifyCarrier(a: StoredAlert, d: NotifyDecision, now: number): AlertEvent {
  return d.notify === 'reminder' || d.notify === 'escalation'
    ? event(a, d.notify, now)
    : event(a, 'notified', now, { transition: d.notify });
}

/** The transition handed to the notifiers for decision `d`, under the id of its `carrier` event. */
export function notifyTransition(
  carrier: AlertEvent,
  alert: StoredAlert,
  d: NotifyDecision,
  now: number,
): AlertTransition {
  carrier.detail.notified = true;
  if (d.reminders) carrier.detail.reminders = d.reminders;
  return {
    id: carrier.id,
    kind: d.notify,
    alert: publicAlert(alert),
    at: now,
    ...(d.previousSeverity ? { previousSeverity: d.previousSeverity } : {}),
    ...(d.reminders ? { reminders: d.reminders } : {}),
  };
}

function sameEval(a: EvalState, b: EvalState): boolean {
  return (
    a.status === b.status &&
    a.level === b.level &&
    a.breachSince === b.breachSince &&
    a.criticalSince === b.criticalSince &&
    a.clearSince === b.clearSince &&
    a.lowerSince === b.lowerSince
  );
}

/**
 * Records in the alert's metadata who inhibits it (`inhibited_by`, removed when nobody does); returns
 * whether that changed.
 */
export function markInhibited(alert: StoredAlert, by: InhibitSource | null): boolean {
  const before = alert.metadata[INHIBITED_BY] ?? null;
  const after = by ? { id: by.id, rule: by.rule, labels: by.labels, by: by.by } : null;
  if (JSON.stringify(before) === JSON.stringify(after)) return false;
  const { [INHIBITED_BY]: _old, ...rest } = alert.metadata;
  alert.metadata = after ? { ...rest, [INHIBITED_BY]: after } : rest;
  return true;
}

/** The plan of one evaluation, or null when there is nothing, not even in memory, to change. */
export function planTransition(p: PlanInput): Plan | null {
  const { rule, tr, now, prev } = p;
  if (tr.kind === 'none' && (!prev || !tr.state)) return null;
  const before = prev ? readBook(prev) : undefined;
  let book = before?.notify ?? newBook(p.carry);
  const evalState: EvalState | undefined = tr.kind === 'resolved' ? before?.eval : tr.state;
  const level = evalState?.level ?? 'warning';
  const value = tr.kind === 'resolved' ? tr.value : (tr.state?.value ?? null);
  const keepSeverity = tr.kind === 'resolved' || (tr.kind === 'none' && tr.state?.status === 'firing');
  const severity = keepSeverity && prev ? prev.severity : severityOf(rule, level, p.extras);
  const threshold =
    tr.kind === 'resolved' ? clearThreshold(rule.condition) : thresholdOf(rule.condition, level);
  const peak = Math.max(
    Number(prev?.metadata.peak ?? Number.NEGATIVE_INFINITY),
    value ?? Number.NEGATIVE_INFINITY,
  );
  const vars = {
    ...p.extras,
    value,
    threshold,
    labels: p.labels,
    rule: rule.name,
    severity,
    level,
    window: rule.windowMs,
  };
  const base: StoredAlert = prev
    ? { ...prev }
    : {
        id: p.id ?? newId(now, 'al_'),
        rule: rule.name,
        fingerprint: p.fingerprint,
        type: rule.type,
        severity,
        status: 'pending',
        message: '',
        value,
        threshold,
        labels: p.labels,
        metadata: {},
        createdAt: now,
        updatedAt: now,
        firingAt: null,
        resolvedAt: null,
        resolution: null,
        state: {},
      };
  const alert: StoredAlert = {
    ...base,
    severity,
    value,
    threshold,
    metadata: {
      ...base.metadata,
      ...(rule.source.kind === 'metric'
        ? { metric: rule.source.metric, aggregation: rule.source.aggregation }
        : {}),
      window_ms: rule.windowMs,
      ...(Number.isFinite(peak) ? { peak } : {}),
      ...(p.extras?.checkCritical !== undefined ? { check_critical: p.extras.checkCritical } : {}),
    },
  };
  if (tr.kind !== 'resolved' || !prev) alert.message = renderMessage(rule.message, vars);
  const inhibitor = tr.kind === 'resolved' ? null : (p.inhibitedBy?.(severity) ?? null);
  const inhibitChanged = markInhibited(alert, inhibitor);

  let stateEvent: AlertEvent | null = null;
  switch (tr.kind) {
    case 'pending':
      alert.status = 'pending';
      stateEvent = event(alert, 'pending', now);
      break;
    case 'firing': {
      alert.status = 'firing';
      alert.firingAt = now;
      const deploy = p.deployBefore?.(alert.labels) ?? null;
      const { [DEPLOY_KEY]: _old, ...rest } = alert.metadata;
      alert.metadata = deploy ? { ...rest, [DEPLOY_KEY]: deploy } : rest;
      stateEvent = event(alert, 'firing', now, deploy ? { [DEPLOY_KEY]: deploy } : {});
      break;
    }
    case 'escalated':
    case 'deescalated':
      stateEvent = event(alert, tr.kind, now, { from: prev?.severity });
      break;
    case 'resolved': {
      const kind = tr.reason === 'stale' ? 'stale' : 'auto';
      const reason =
        tr.reason === 'stale'
          ? RESOLUTION_REASON.stale
          : tr.wasFiring
            ? RESOLUTION_REASON.auto
            : RESOLUTION_REASON.pending;
      alert.status = 'resolved';
      alert.resolvedAt = now;
      alert.resolution = { kind, by: 'prodmon', at: now, reason };
      stateEvent = event(alert, 'resolved', now, { resolution: kind, reason });
      break;
    }
    default:
      break;
  }
  if (alert.status === 'firing' && (tr.kind === 'firing' || alert.severity !== prev?.severity)) {
    book = recordSeverity(book, alert.severity, now);
  }

  const decision = decide(alert, book, now, p.mutedBy.length > 0, p.policy, inhibitor !== null);
  let transition: AlertTransition | null = null;
  const events: AlertEvent[] = [];
  if (decision && 'notify' in decision) {
    const carrier = stateEvent ?? notifyCarrier(alert, decision, now);
    if (stateEvent && decision.notify !== stateEvent.kind) carrier.detail.as = decision.notify;
    transition = notifyTransition(carrier, alert, decision, now);
    book = recordNotification(book, decision.notify, alert.severity, now);
    stateEvent = carrier;
  } else if (stateEvent && stateEvent.kind !== 'pending') {
    stateEvent.detail.notified = false;
    if (decision && 'suppressed' in decision) {
      stateEvent.detail.suppressed = decision.suppressed;
      if (decision.suppressed === 'silenced') stateEvent.detail.muted_by = p.mutedBy;
      if (decision.suppressed === 'inhibited' && inhibitor)
        stateEvent.detail.inhibited_by = { id: inhibitor.id, rule: inhibitor.rule, by: inhibitor.by };
    }
  }
  if (stateEvent) events.push(stateEvent);

  const newEval = evalState ?? before?.eval;
  alert.state = {
    eval: newEval,
    notify: book,
    persistedAt: (prev?.state.persistedAt as number | undefined) ?? now,
  };
  const changed =
    !prev ||
    events.length > 0 ||
    inhibitChanged ||
    !before ||
    !newEval ||
    !sameEval(before.eval, newEval) ||
    JSON.stringify(before.notify) !== JSON.stringify(book);
  const stalePersist = now - Number(prev?.state.persistedAt ?? 0) >= p.persistEveryMs;
  const persist = changed || stalePersist;
  if (persist) {
    alert.updatedAt = now;
    alert.state.persistedAt = now;
  }
  return { alert, insert: !prev, events, transition, persist };
}
