/**
 * What alerting needs from the store: alerts and their history, silences, the audit trail. The store's
 * repositories implement these (src/store/repos/).
 */
import type { AlertEvent, AlertFilter, Severity, StoredAlert } from '../domain/alert.js';
import type { AuditEntry } from '../domain/audit.js';
import type { Silence } from '../domain/silence.js';

/** Alerts and their history of transitions. */
export interface AlertRepository {
  /** Stores a new alert; fails if an open alert with the same fingerprint exists. */
  insert(alert: StoredAlert): Promise<void>;
  /** Replaces a stored alert's fields. */
  update(alert: StoredAlert): Promise<void>;
  /**
   * Replaces a stored alert's fields only while it is still open (pending or firing); returns whether it
   * was. Guards an evaluation against a concurrent manual resolution.
   */
  updateOpen(alert: StoredAlert): Promise<boolean>;
  /** The newest alert of a fingerprint, open or resolved. */
  lastByFingerprint(fingerprint: string): Promise<StoredAlert | undefined>;
  /** Alerts resolved at or after `since`, oldest resolution first. */
  listResolvedSince(since: number, limit?: number): Promise<StoredAlert[]>;
  /** One alert by id. */
  get(id: string): Promise<StoredAlert | undefined>;
  /** The open (pending or firing) alert of a fingerprint. */
  findOpen(fingerprint: string): Promise<StoredAlert | undefined>;
  /** Every open alert. */
  listOpen(): Promise<StoredAlert[]>;
  /** Open (pending or firing) alerts per severity (severities without one are left out). */
  openBySeverity(): Promise<Partial<Record<Severity, number>>>;
  /** A page of alerts matching the filter, newest first, with the total count. */
  list(f?: AlertFilter): Promise<{
    items: StoredAlert[];
    total: number;
  }>;
  /** Appends a transition to an alert's history. */
  addEvent(e: AlertEvent): Promise<void>;
  /** Appends several transitions in one statement (at most a few hundred at a time). */
  addEvents(events: readonly AlertEvent[]): Promise<void>;
  /** An alert's history, oldest first. */
  events(alertId: string): Promise<AlertEvent[]>;
  /** Resolved alerts (and their events) resolved before `before`; returns how many alerts. */
  deleteResolvedBefore(before: number): Promise<number>;
}

/** Silences: alerts matching them stay recorded but are not notified until they end. */
export interface SilenceRepository {
  /** Stores a silence. */
  create(s: Silence): Promise<void>;
  /** Silences in force at `now` (started, not ended, not expired by hand). */
  active(now: number): Promise<Silence[]>;
  /** All silences, newest first. */
  list(limit?: number): Promise<Silence[]>;
  /** One silence. */
  get(id: string): Promise<Silence | undefined>;
  /** Ends a silence now; returns whether it was in force. */
  expire(id: string, now: number): Promise<boolean>;
}

/** The audit trail: who did what, when (manual resolutions, silences, config changes, token use). */
export interface AuditRepository {
  /** Appends an entry; returns it with its id. */
  append(e: Omit<AuditEntry, 'id'>): Promise<AuditEntry>;
  /** Entries, newest first, optionally for one target. */
  list(opts?: { target?: string; since?: number; limit?: number }): Promise<AuditEntry[]>;
}
