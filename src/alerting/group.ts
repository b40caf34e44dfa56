import type { DeployRef } from '../deployments/annotate.js';
import type { Severity, StoredAlert } from '../domain/alert.js';
import type { HealthCheckResult } from '../domain/health.js';
import type { Labels } from '../domain/labels.js';
import { type EvalWindow, evaluate } from './evaluate.js';
import type { InhibitSource, InhibitTarget } from './inhibit.js';
import { event, type Plan, planTransition, publicAlert, readBook } from './plan.js';
import { decide, type PolicyOptions, recordNotification } from './policy.js';
import type { AlertRule } from './rules.js';
import type { SecurityCounters } from './security.js';
import type { MetricSource } from './sources.js';

/** One group of a rule's data: its labels and value (null: no data). */
export interface Group {
  labels: Labels;
  value: number | null;
  /** When the data is from (check results), default now. */
  at?: number;
  /** Template variables and facts for the alert (a check's status, error, critical flag). */
  extras?: Record<string, unknown>;
}

const STATUS_VALUE = { healthy: 0, degraded: 1, unhealthy: 2 } as const;

/** The groups of a rule at `now`: metric windows, security counts, or check results. */
export async function readGroups(
  rule: AlertRule,
  now: number,
  src: { metrics: MetricSource | null; security: SecurityCounters; results?: readonly HealthCheckResult[] },
): Promise<Group[]> {
  const s = rule.source;
  if (s.kind === 'metric') {
    if (!src.metrics) return [];
    const values = await src.metrics.windowValues({
      metric: s.metric,
      labels: s.labels,
      groupBy: s.groupBy,
      aggregation: s.aggregation,
      since: now - rule.windowMs,
      until: now,
    });
    return values.map((v) => ({ labels: v.labels, value: v.count > 0 && v.value !== null ? v.value : null }));
  }
  if (s.kind === 'security') return src.security.windows(rule, now);
  const out: Group[] = [];
  for (const r of src.results ?? []) {
    if ((s.check !== '*' && r.name !== s.check) || s.exceptKinds?.includes(r.kind)) continue;
    const stale = now - r.checkedAt >= rule.staleAfterMs;
    out.push({
      labels: { check: r.name },
      value: stale ? null : s.field === 'status' ? STATUS_VALUE[r.status] : r.responseTimeMs,
      at: r.checkedAt,
      extras: {
        checkCritical: r.critical,
        status: r.status,
        error: r.error ?? '',
        reason: r.error ? `: ${r.error}` : '',
      },
    });
  }
  return out;
}

/** What a group evaluation needs from the engine. */
export interface GroupContext {
  now: number;
  mutedBy(labels: Labels): string[];
  /** Open alerts by fingerprint. */
  open: ReadonlyMap<string, StoredAlert>;
  policy: PolicyOptions;
  persistEveryMs: number;
  /** Until when a fingerprint may not open again (manual resolution), and its last notification times. */
  refireBlock(fp: string): { until: number; carry?: Partial<Record<Severity, number>> };
  /** The firing alert inhibiting a target (absent: no inhibition). */
  inhibitedBy?: (t: InhibitTarget) => InhibitSource | null;
  /** The id a new alert of a fingerprint takes, when it must be a given one. */
  adoptId?: (fp: string) => string | undefined;
  /** The deploy marker an alert of these labels starting to fire now follows (absent: none). */
  deployBefore?: (labels: Labels) => DeployRef | null;
}

/** Evaluates one group; returns what to commit (null: nothing changes). */
export function planGroup(
  rule: AlertRule,
  labels: Labels,
  fp: string,
  window: EvalWindow,
  ctx: GroupContext,
  extras?: Record<string, unknown>,
): Plan | null {
  const prev = ctx.open.get(fp);
  const tr = evaluate(rule, window, prev ? readBook(prev).eval : undefined, ctx.now);
  if (tr.kind === 'none' && !prev) return null;
  let carry: Partial<Record<Severity, number>> | undefined;
  if (!prev) {
    const block = ctx.refireBlock(fp);
    if (block.until > ctx.now) return null; // resolved by hand: re-fires only after the cooldown
    carry = block.carry;
  }
  const inhibited = ctx.inhibitedBy;
  return planTransition({
    rule,
    labels: prev?.labels ?? labels,
    fingerprint: fp,
    prev,
    tr,
    now: ctx.now,
    mutedBy: ctx.mutedBy(labels),
    policy: ctx.policy,
    carry,
    extras,
    persistEveryMs: ctx.persistEveryMs,
    ...(inhibited
      ? {
          inhibitedBy: (severity: Severity) =>
            inhibited({ rule: rule.name, type: rule.type, severity, labels, fingerprint: fp }),
        }
      : {}),
    id: prev ? undefined : ctx.adoptId?.(fp),
    deployBefore: ctx.deployBefore,
  });
}

/** The plan that resolves an open alert whose rule is no longer configured. */
export function planOrphan(a: StoredAlert, now: number, mutedBy: string[], policy: PolicyOptions): Plan {
  const book = readBook(a);
  const reason = `rule "${a.rule}" is no longer configured`;
  const alert: StoredAlert = {
    ...a,
    status: 'resolved',
    resolvedAt: now,
    updatedAt: now,
    resolution: { kind: 'auto', by: 'prodmon', at: now, reason },
  };
  const decision = decide(alert, book.notify, now, mutedBy.length > 0, policy);
  const told = decision !== null && 'notify' in decision;
  const ev = event(alert, 'resolved', now, { resolution: 'auto', reason, notified: told });
  alert.state = {
    ...a.state,
    notify: told ? recordNotification(book.notify, 'resolved', a.severity, now) : book.notify,
  };
  return {
    alert,
    insert: false,
    events: [ev],
    transition: told ? { id: ev.id, kind: 'resolved', alert: publicAlert(alert), at: now } : null,
    persist: true,
  };
}
