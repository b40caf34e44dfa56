/**
 * Whether to notify, pure: the engine decides *whether* (dedup, cooldown, reminders, escalation,
 * silences), the sink decides *where*. The rule is to converge: a firing alert's current severity is
 * told once, a severity already told within the cooldown is not told again, a reminder follows
 * `repeat_interval` of quiet, and a resolution is told only to those who were told of the firing.
 */

import type { AlertStatus, Severity } from '../domain/alert.js';
import { SEVERITIES } from '../domain/alert.js';
import type { TransitionKind } from '../domain/transition.js';

/** What the engine remembers about an alert's notifications (in the alert's `state`). */
export interface NotifyBook {
  /** The last notification handed over (null: none yet). */
  last: { kind: TransitionKind; severity: Severity; at: number } | null;
  /** Last hand-over time per severity, including those of earlier incidents of the same fingerprint. */
  at: Partial<Record<Severity, number>>;
  /** How many reminders were handed over. */
  reminders: number;
  /** When the alert's severity last became `critical` (for `escalate_after`). */
  criticalAt: number | null;
  /** Whether the `escalation` for the current critical episode was handed over. */
  escalated: boolean;
  /** A resolution that still has to be handed over (resolved where no sink was available). */
  notice?: 'owed';
}

/** A fresh book; `carry` brings the per-severity times of the fingerprint's previous incident. */
export function newBook(carry?: Partial<Record<Severity, number>>): NotifyBook {
  return { last: null, at: { ...carry }, reminders: 0, criticalAt: null, escalated: false };
}

/** The knobs of the policy. */
export interface PolicyOptions {
  cooldownMs: number;
  repeatIntervalMs: number;
  /** 0 disables the `escalation` transition. */
  escalateAfterMs: number;
}

/** Why a notification was not handed over. */
export type Suppression = 'silenced' | 'inhibited' | 'cooldown';

/** The decision for one alert at one moment. */
export type Decision =
  | { notify: TransitionKind; previousSeverity?: Severity; reminders?: number }
  | { suppressed: Suppression; would: TransitionKind }
  | null;

const rank = (s: Severity) => SEVERITIES.indexOf(s);

/** What to hand over now for an alert in `status` at `severity`. */
export function decide(
  alert: { status: AlertStatus; severity: Severity },
  book: NotifyBook,
  now: number,
  muted: boolean,
  opts: PolicyOptions,
  /** A firing root cause inhibits the alert (see inhibit.ts). */
  inhibited = false,
): Decision {
  if (alert.status === 'resolved') return book.last ? { notify: 'resolved' } : null;
  if (alert.status !== 'firing') return null;
  const sev = alert.severity;
  const recently = (s: Severity) => {
    const t = book.at[s];
    return t !== undefined && now - t < opts.cooldownMs;
  };
  let next: { notify: TransitionKind; previousSeverity?: Severity; reminders?: number };
  let cooling = false;
  if (!book.last) {
    next = { notify: 'firing' };
    cooling = recently(sev);
  } else if (sev !== book.last.severity) {
    next = {
      notify: rank(sev) > rank(book.last.severity) ? 'escalated' : 'deescalated',
      previousSeverity: book.last.severity,
    };
    cooling = recently(sev);
  } else if (
    opts.escalateAfterMs > 0 &&
    sev === 'critical' &&
    !book.escalated &&
    book.criticalAt !== null &&
    now - book.criticalAt >= opts.escalateAfterMs
  ) {
    next = { notify: 'escalation' };
  } else if (now - book.last.at >= opts.repeatIntervalMs) {
    next = { notify: 'reminder', reminders: book.reminders + 1 };
  } else {
    return null;
  }
  if (muted) return { suppressed: 'silenced', would: next.notify };
  if (inhibited) return { suppressed: 'inhibited', would: next.notify };
  if (cooling) return { suppressed: 'cooldown', would: next.notify };
  return next;
}

/** The book after handing over `kind` at `severity`. */
export function recordNotification(
  book: NotifyBook,
  kind: TransitionKind,
  severity: Severity,
  now: number,
): NotifyBook {
  const out: NotifyBook = { ...book, at: { ...book.at } };
  if (kind === 'resolved') {
    delete out.notice;
    return out;
  }
  out.last = { kind, severity, at: now };
  out.at[severity] = now;
  if (kind === 'reminder') out.reminders = book.reminders + 1;
  if (kind === 'escalation') out.escalated = true;
  return out;
}

/** The book after the alert's severity changed (tracks the critical episode for `escalate_after`). */
export function recordSeverity(book: NotifyBook, severity: Severity, now: number): NotifyBook {
  if (severity === 'critical') return book.criticalAt === null ? { ...book, criticalAt: now } : book;
  return book.criticalAt === null && !book.escalated ? book : { ...book, criticalAt: null, escalated: false };
}

/** When the decision for a firing alert may change by time alone (cooldown end, reminder, escalation). */
export function nextNotifyAt(
  alert: { status: AlertStatus; severity: Severity },
  book: NotifyBook,
  opts: PolicyOptions,
): number | null {
  if (alert.status !== 'firing') return null;
  const times: number[] = [];
  const t = book.at[alert.severity];
  if (t !== undefined && (!book.last || book.last.severity !== alert.severity))
    times.push(t + opts.cooldownMs);
  if (book.last) {
    times.push(book.last.at + opts.repeatIntervalMs);
    if (
      opts.escalateAfterMs > 0 &&
      alert.severity === 'critical' &&
      !book.escalated &&
      book.criticalAt !== null
    ) {
      times.push(book.criticalAt + opts.escalateAfterMs);
    }
  }
  return times.length ? Math.min(...times) : null;
}
