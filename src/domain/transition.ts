/**
 * The hand-over from the alert engine to the notification pipeline: one `AlertTransition` per change
 * worth telling someone about.
 */
import type { Alert, Severity } from './alert.js';

/** What happened to the alert. */
export type TransitionKind =
  /** Started firing. */
  | 'firing'
  /** Severity went up while firing (e.g. warning -> critical). */
  | 'escalated'
  /** Severity went down while still firing. */
  | 'deescalated'
  /** Still firing after `repeat_interval`. */
  | 'reminder'
  /** Critical and unresolved after `escalate_after`: goes to the escalation channels too. */
  | 'escalation'
  /** Resolved (automatically, manually, or stale). */
  | 'resolved';

/** One notifiable transition of an alert. */
export interface AlertTransition {
  /** Unique and stable per transition (the alert event's id): the outbox key is `${id}:${channel}`. */
  id: string;
  kind: TransitionKind;
  /** The alert as it is after the transition. */
  alert: Alert;
  at: number;
  previousSeverity?: Severity;
  /** How many reminders have been sent for this alert, this one included. */
  reminders?: number;
}
