/**
 * Rule evaluation, pure: (rule, window, previous state, now) -> transition. No I/O, no clock.
 *
 * - A value beyond a threshold is a breach at that level; a level fires once it has held for its
 *   `for` (pending until then).
 * - A firing alert holds while the value is beyond `clear` (default: the lowest threshold), and
 *   resolves once it has been clear for `keep_firing_for`.
 * - Warning -> critical is an escalation of the same alert; back to warning (de-escalation) needs the
 *   value under critical for max(warning `for`, `keep_firing_for`), so a value hovering at the
 *   critical line does not flap.
 * - No data (null) neither fires nor clears; only `staleAfterMs` without data resolves (`stale`).
 */
import type { AlertRule, Condition, Level } from './rules.js';

/** What the window showed: null = no data. `at` is when the data is from (default `now`). */
export interface EvalWindow {
  value: number | null;
  at?: number;
}

/** The evaluation state of an open alert, kept between evaluations (and across restarts). */
export interface EvalState {
  status: 'pending' | 'firing';
  level: Level;
  /** Since when the value is continuously beyond the lowest threshold. */
  breachSince: number | null;
  /** Since when it is continuously beyond the critical threshold. */
  criticalSince: number | null;
  /** Since when a firing alert's condition is clear (keep_firing_for). */
  clearSince: number | null;
  /** Since when a critical alert's value is under critical (de-escalation). */
  lowerSince: number | null;
  lastDataAt: number;
  value: number | null;
}

/** The outcome of one evaluation. */
export type Transition =
  /** Nothing visible happened; `state` is the (maybe updated) state, undefined when inactive. */
  | { kind: 'none'; state?: EvalState }
  | { kind: 'pending'; state: EvalState }
  | { kind: 'firing'; state: EvalState }
  | { kind: 'escalated' | 'deescalated'; from: Level; state: EvalState }
  | { kind: 'resolved'; reason: 'auto' | 'stale'; wasFiring: boolean; value: number | null };

function beyond(c: Condition, v: number, t: number): boolean {
  if (c.direction === 'above') return c.inclusive ? v >= t : v > t;
  return c.inclusive ? v <= t : v < t;
}

/** The level a value breaches, or null. */
export function levelOf(c: Condition, v: number): Level | null {
  if (c.critical !== undefined && beyond(c, v, c.critical)) return 'critical';
  if (c.warning !== undefined && beyond(c, v, c.warning)) return 'warning';
  return null;
}

/** The threshold of a level (the lowest configured one for `warning` when only critical is set). */
export function thresholdOf(c: Condition, level: Level): number | null {
  return (level === 'critical' ? c.critical : c.warning) ?? c.critical ?? c.warning ?? null;
}

/** The value where a firing alert clears. */
export function clearThreshold(c: Condition): number | null {
  return c.clear ?? c.warning ?? c.critical ?? null;
}

function holds(c: Condition, v: number): boolean {
  if (levelOf(c, v) !== null) return true;
  if (c.clear === undefined) return false;
  return c.direction === 'above' ? v > c.clear : v < c.clear;
}

/** The level a pending alert is due to fire at, or null. */
function dueLevel(c: Condition, s: EvalState, now: number): Level | null {
  if (s.criticalSince !== null && now - s.criticalSince >= c.forMs.critical) return 'critical';
  if (c.warning !== undefined && s.breachSince !== null && now - s.breachSince >= c.forMs.warning)
    return 'warning';
  return null;
}

/** Time a pending or clearing alert may change without new data (for waking the loop), or null. */
export function nextDeadline(rule: AlertRule, s: EvalState): number | null {
  const c = rule.condition;
  const times: number[] = [];
  if (s.status === 'pending') {
    if (s.criticalSince !== null) times.push(s.criticalSince + c.forMs.critical);
    if (s.breachSince !== null && c.warning !== undefined) times.push(s.breachSince + c.forMs.warning);
  } else if (s.clearSince !== null) {
    times.push(s.clearSince + c.keepFiringForMs);
  }
  return times.length ? Math.min(...times) : null;
}

/** Evaluates `rule` on `window` given the alert's previous state (undefined: no open alert). */
export function evaluate(
  rule: AlertRule,
  window: EvalWindow,
  prev: EvalState | undefined,
  now: number,
): Transition {
  const c = rule.condition;
  const v = window.value;
  if (v === null || !Number.isFinite(v)) {
    if (!prev) return { kind: 'none' };
    if (now - prev.lastDataAt >= rule.staleAfterMs) {
      return { kind: 'resolved', reason: 'stale', wasFiring: prev.status === 'firing', value: prev.value };
    }
    return { kind: 'none', state: prev };
  }
  const at = Math.min(window.at ?? now, now);
  const level = levelOf(c, v);

  if (!prev || prev.status === 'pending') {
    if (level === null) {
      return prev ? { kind: 'resolved', reason: 'auto', wasFiring: false, value: v } : { kind: 'none' };
    }
    const state: EvalState = {
      status: 'pending',
      level,
      breachSince: prev?.breachSince ?? now,
      criticalSince: level === 'critical' ? (prev?.criticalSince ?? now) : null,
      clearSince: null,
      lowerSince: null,
      lastDataAt: at,
      value: v,
    };
    const due = dueLevel(c, state, now);
    if (due) return { kind: 'firing', state: { ...state, status: 'firing', level: due } };
    return prev ? { kind: 'none', state } : { kind: 'pending', state };
  }

  // Firing.
  const state: EvalState = { ...prev, lastDataAt: at, value: v };
  if (!holds(c, v)) {
    state.clearSince = prev.clearSince ?? now;
    state.criticalSince = null;
    if (now - state.clearSince >= c.keepFiringForMs) {
      return { kind: 'resolved', reason: 'auto', wasFiring: true, value: v };
    }
    return { kind: 'none', state };
  }
  state.clearSince = null;
  state.breachSince = prev.breachSince ?? now;
  state.criticalSince = level === 'critical' ? (prev.criticalSince ?? now) : null;
  if (prev.level === 'warning') {
    state.lowerSince = null;
    if (state.criticalSince !== null && now - state.criticalSince >= c.forMs.critical) {
      return { kind: 'escalated', from: 'warning', state: { ...state, level: 'critical' } };
    }
    return { kind: 'none', state };
  }
  if (level === 'critical' || c.warning === undefined) {
    state.lowerSince = null;
    return { kind: 'none', state };
  }
  state.lowerSince = prev.lowerSince ?? now;
  if (now - state.lowerSince >= Math.max(c.forMs.warning, c.keepFiringForMs)) {
    return { kind: 'deescalated', from: 'critical', state: { ...state, level: 'warning', lowerSince: null } };
  }
  return { kind: 'none', state };
}
