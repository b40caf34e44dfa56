/** Alerts: one per (rule, labels) incident, from pending to resolved, and their history. */
import type { Labels } from './labels.js';

/** How bad an alert is. */
export type Severity = 'low' | 'medium' | 'high' | 'critical';
/** What an alert is about. */
export type AlertType = 'performance' | 'error' | 'system' | 'security';
/** Where an alert is in its life. */
export type AlertStatus = 'pending' | 'firing' | 'resolved';
/** How an alert came to be resolved. */
export type ResolutionKind = 'auto' | 'manual' | 'stale';

export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];
export const ALERT_TYPES: readonly AlertType[] = ['performance', 'error', 'system', 'security'];

/** Who resolved an alert, when and why. */
export interface Resolution {
  kind: ResolutionKind;
  /** Token or user name for manual resolutions; `prodmon` for automatic ones. */
  by: string;
  at: number;
  reason: string;
}

/** One alert: one per (rule, labels) incident, from pending to resolved. */
export interface Alert {
  id: string;
  rule: string;
  /** Stable key of (rule, labels): at most one unresolved alert per fingerprint. */
  fingerprint: string;
  type: AlertType;
  severity: Severity;
  status: AlertStatus;
  message: string;
  /** The observed value that breached (or cleared). */
  value: number | null;
  /** The threshold it was compared with. */
  threshold: number | null;
  labels: Labels;
  /** Free-form data for correlation (request ids, check details, deploy...). */
  metadata: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  /** When the alert started firing (null while pending). */
  firingAt: number | null;
  resolvedAt: number | null;
  resolution: Resolution | null;
}

/** An alert with the engine's private bookkeeping (`state`). */
export type StoredAlert = Alert & { state: Record<string, unknown> };

/** One transition in an alert's life. */
export interface AlertEvent {
  id: string;
  alertId: string;
  at: number;
  kind: string;
  status: AlertStatus;
  severity: Severity;
  value: number | null;
  threshold: number | null;
  actor: string | null;
  detail: Record<string, unknown>;
}

/** Filters of the alert list. */
export interface AlertFilter {
  status?: AlertStatus[];
  severity?: Severity[];
  type?: AlertType[];
  rule?: string;
  since?: number;
  until?: number;
  limit?: number;
  offset?: number;
}
