/** Evaluating one (rule, labels) group: evaluate, look up the fingerprint's past, plan, commit. */
import { newId } from '../core/ids.js';
import type { Labels } from '../core/types.js';
import type { StoredAlert } from '../store/repos/alerts.js';
import { type EvalWindow, evaluate } from './evaluate.js';
import { decide, type PolicyOptions, recordNotification } from './policy.js';
import { type Plan, planTransition, publicAlert, readBook } from './plan.js';
import type { AlertRule } from './rules.js';

/** What a group evaluation needs from the engine. */
export interface GroupContext {
  now: number;
  mutedBy(labels: Labels): string[];
  /** Open alerts by fingerprint. */
  open: ReadonlyMap<string, StoredAlert>;
  policy: PolicyOptions;
  persistEveryMs: number;
  /** Until when a fingerprint may not open again (manual resolution), and its previous alert. */
  refireBlock(fp: string): Promise<{ until: number; carry?: StoredAlert }>;
  commit(plan: Plan): Promise<void>;
}

/** Evaluates one group and commits what changed. */
export async function evaluateGroup(
  rule: AlertRule,
  labels: Labels,
  fp: string,
  window: EvalWindow,
  ctx: GroupContext,
  extras?: Record<string, unknown>,
): Promise<void> {
  const prev = ctx.open.get(fp);
  const tr = evaluate(rule, window, prev ? readBook(prev).eval : undefined, ctx.now);
  if (tr.kind === 'none' && !prev) return;
  let carry: StoredAlert | undefined;
  if (!prev) {
    const block = await ctx.refireBlock(fp);
    if (block.until > ctx.now) return; // resolved by hand: re-fires only after the cooldown
    carry = block.carry;
  }
  const plan = planTransition({
    rule,
    labels: prev?.labels ?? labels,
    fingerprint: fp,
    prev,
    tr,
    now: ctx.now,
    mutedBy: ctx.mutedBy(labels),
    policy: ctx.policy,
    carry: carry ? readBook(carry).notify.at : undefined,
    extras,
    persistEveryMs: ctx.persistEveryMs,
  });
  if (plan) await ctx.commit(plan);
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
  const ev = {
    id: newId(now, 'ev_'),
    alertId: a.id,
    at: now,
    kind: 'resolved',
    status: 'resolved' as const,
    severity: a.severity,
    value: a.value,
    threshold: a.threshold,
    actor: null,
    detail: { resolution: 'auto', reason, notified: told },
  };
  alert.state = { ...a.state, notify: told ? recordNotification(book.notify, 'resolved', a.severity, now) : book.notify };
  return {
    alert,
    insert: false,
    events: [ev],
    transition: told ? { id: ev.id, kind: 'resolved', alert: publicAlert(alert), at: now } : null,
    persist: true,
  };
}
