/**
 * From alert transitions to notifications, and from notifications to the facts every template shows:
 * what, how bad, since when, value vs threshold, reminders, how long it was down, and a link.
 */
import { deployText, formatValue, labelsText } from '../alerting/message.js';
import type { ResolvedConfig } from '../config/load.js';
import { formatDuration } from '../core/duration.js';
import { formatUtc } from '../core/format.js';
import type { TemplateValue } from '../core/template.js';
import type { Alert, Severity } from '../domain/alert.js';
import type { AlertTransition } from '../domain/transition.js';
import type { AlertNotification, AlertSnapshot, InhibitedAlert, Notification } from './types.js';

/** The version of the stored and webhook payload shape. */
export const PAYLOAD_VERSION = 1;

/** Label naming the channel a `system` alert is about: that alert is never routed to that channel. */
export const FAILING_CHANNEL_LABEL = 'notification_channel';

/** Colours per severity (and for resolutions), shared by Slack and the HTML e-mail. */
export const COLORS: Record<Severity | 'resolved' | 'test', string> = {
  critical: '#d40e0d',
  high: '#e8710a',
  medium: '#f2c744',
  low: '#439fe0',
  resolved: '#2eb67d',
  test: '#868e96',
};

/** The alert fields a notification keeps (engine bookkeeping such as `state` is left out). */
export function alertSnapshot(a: Alert): AlertSnapshot {
  return {
    id: a.id,
    rule: a.rule,
    fingerprint: a.fingerprint,
    type: a.type,
    severity: a.severity,
    status: a.status,
    message: a.message,
    value: a.value,
    threshold: a.threshold,
    labels: { ...a.labels },
    metadata: { ...a.metadata },
    createdAt: a.createdAt,
    firingAt: a.firingAt,
    resolvedAt: a.resolvedAt,
    resolution: a.resolution ? { ...a.resolution } : null,
  };
}

/** The dashboard's base URL for links (null without `server.public_url`). */
export function dashboardBase(config: Pick<ResolvedConfig, 'server'>): string | null {
  const base = config.server.public_url;
  if (!base) return null;
  return `${base.replace(/\/+$/, '')}${config.server.prefix}/production/dashboard/`;
}

/** Link to one alert on the dashboard. */
export function alertLink(config: Pick<ResolvedConfig, 'server'>, alertId: string): string | null {
  const base = dashboardBase(config);
  return base ? `${base}#/alerts/${encodeURIComponent(alertId)}` : null;
}

/** The outbox payload of a transition for one channel (everything but id and channel). */
export function transitionPayload(
  t: AlertTransition,
  link: string | null,
): Omit<AlertNotification, 'id' | 'channel'> & { version: number } {
  return {
    version: PAYLOAD_VERSION,
    event: t.kind,
    transitionId: t.id,
    at: t.at,
    alert: alertSnapshot(t.alert),
    ...(t.previousSeverity ? { previousSeverity: t.previousSeverity } : {}),
    ...(t.reminders !== undefined ? { reminders: t.reminders } : {}),
    link,
  };
}

/** A notification from an outbox row (its payload plus the row's id and channel). */
export function notificationFromItem(item: {
  id: string;
  channel: string;
  payload: Record<string, unknown>;
}): Notification {
  return { ...(item.payload as object), id: item.id, channel: item.channel } as Notification;
}

/** A test message for `prodmon notify test`, shaped like a low-severity firing alert. */
export function testNotification(
  channel: string,
  now: number,
  link: string | null,
  id: string,
): AlertNotification {
  return {
    id,
    channel,
    event: 'test',
    transitionId: id,
    at: now,
    link,
    alert: {
      id: `test-${id}`,
      rule: 'prodmon_test',
      fingerprint: 'prodmon_test',
      type: 'system',
      severity: 'low',
      status: 'firing',
      message: `Test notification from prodmon through channel "${channel}". No action needed.`,
      value: null,
      threshold: null,
      labels: { channel },
      metadata: {},
      createdAt: now,
      firingAt: now,
      resolvedAt: null,
      resolution: null,
    },
  };
}

/** One line saying what happened. */
export function headline(n: AlertNotification): string {
  const a = n.alert;
  const sev = a.severity.toUpperCase();
  switch (n.event) {
    case 'firing':
      return `${sev}: ${a.rule} is firing`;
    case 'escalated':
      return `${sev}: ${a.rule} escalated${n.previousSeverity ? ` from ${n.previousSeverity}` : ''}`;
    case 'deescalated':
      return `${sev}: ${a.rule} lowered${n.previousSeverity ? ` from ${n.previousSeverity}` : ''}`;
    case 'reminder':
      return `${sev}: ${a.rule} still firing${n.reminders ? ` (reminder ${n.reminders})` : ''}`;
    case 'escalation':
      return `ESCALATION ${sev}: ${a.rule} unresolved${a.firingAt !== null ? ` for ${formatDuration(n.at - a.firingAt)}` : ''}`;
    case 'resolved':
      return `RESOLVED: ${a.rule}${a.firingAt !== null && a.resolvedAt !== null ? ` after ${formatDuration(a.resolvedAt - a.firingAt)}` : ''}`;
    case 'test':
      return `TEST: prodmon notification check (${n.channel})`;
  }
}

/** The colour of a notification. */
export function colorOf(n: AlertNotification): string {
  if (n.event === 'resolved') return COLORS.resolved;
  if (n.event === 'test') return COLORS.test;
  return COLORS[n.alert.severity];
}

/** Every fact a template may show, as strings (empty when it does not apply). */
export function alertFields(n: AlertNotification): Record<string, TemplateValue> {
  const a = n.alert;
  const resolved = n.event === 'resolved';
  const value = formatValue(a.value, '');
  const threshold = formatValue(a.threshold, '');
  const labels = labelsText(a.labels);
  return {
    headline: headline(n),
    event: n.event,
    rule: a.rule,
    message: a.message,
    severity: a.severity,
    severity_upper: a.severity.toUpperCase(),
    previous_severity: n.previousSeverity ?? '',
    type: a.type,
    value,
    threshold,
    value_vs_threshold: value ? (threshold ? `${value} (threshold ${threshold})` : value) : '',
    since: a.firingAt !== null ? formatUtc(a.firingAt) : '',
    firing_for: !resolved && a.firingAt !== null ? formatDuration(Math.max(0, n.at - a.firingAt)) : '',
    down_for:
      resolved && a.firingAt !== null && a.resolvedAt !== null
        ? formatDuration(Math.max(0, a.resolvedAt - a.firingAt))
        : '',
    resolved_at: resolved && a.resolvedAt !== null ? formatUtc(a.resolvedAt) : '',
    resolution: resolved && a.resolution ? resolutionText(a.resolution) : '',
    reminders: n.reminders ? String(n.reminders) : '',
    labels,
    deploy: n.event === 'test' ? '' : deployText(a),
    alert_id: a.id,
    link: n.link ?? '',
    at: formatUtc(n.at),
    inhibits: inhibitedText(n.inhibits ?? []),
  };
}

/** The alerts a root cause inhibits, as one line (empty when none). */
export function inhibitedText(list: readonly InhibitedAlert[], max = 10): string {
  if (list.length === 0) return '';
  const names = list.slice(0, max).map((i) => {
    const labels = labelsText(i.labels);
    return labels ? `${i.rule} (${labels})` : i.rule;
  });
  const more = list.length > max ? ` and ${list.length - max} more` : '';
  return `${list.length} alert${list.length === 1 ? '' : 's'} not notified while this fires: ${names.join('; ')}${more}`;
}

function resolutionText(r: NonNullable<AlertSnapshot['resolution']>): string {
  const how = r.kind === 'manual' ? `manually by ${r.by}` : r.kind === 'stale' ? 'as stale' : 'automatically';
  return r.reason ? `${how}: ${r.reason}` : how;
}
