/**
 * The webhook payloads (documented in docs/notifications.md, Payloads): `{ type, timestamp,
 * version, data }` following the Standard Webhooks payload recommendations. Version 1 is one alert's
 * transition; version 2 (`alert.group`) is a group message carrying several.
 */
import { groupFacts, groupText, overflowCount } from '../group.js';
import { PAYLOAD_VERSION } from '../message.js';
import { renderLine, renderText } from '../templates.js';
import type { AlertNotification, GroupInfo, GroupNotification, Notification } from '../types.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The `type` of a notification: `alert.firing`, `alert.resolved`, ..., `prodmon.test`, `summary.daily`. */
export function eventType(n: Notification): string {
  if (n.event === 'summary') return 'summary.daily';
  if (n.event === 'test') return 'prodmon.test';
  return `alert.${n.event}`;
}

function alertData(n: AlertNotification) {
  return {
    ...alertFieldsData(n),
    ...(n.group ? { group: groupData(n.group) } : {}),
    ...(n.inhibits?.length ? { inhibits: n.inhibits } : {}),
  };
}

function groupData(g: GroupInfo) {
  return { key: g.key, rule: g.rule, labels: g.labels, open: g.open ?? null };
}

function alertFieldsData(n: AlertNotification) {
  const a = n.alert;
  return {
    notification_id: n.id,
    channel: n.channel,
    event: n.event,
    transition_id: n.transitionId,
    previous_severity: n.previousSeverity ?? null,
    reminders: n.reminders ?? 0,
    summary: renderLine(n),
    text: renderText(n),
    link: n.link,
    alert: {
      id: a.id,
      rule: a.rule,
      fingerprint: a.fingerprint,
      type: a.type,
      severity: a.severity,
      status: a.status,
      message: a.message,
      value: a.value,
      threshold: a.threshold,
      labels: a.labels,
      metadata: a.metadata,
      created_at: iso(a.createdAt),
      firing_at: iso(a.firingAt),
      resolved_at: iso(a.resolvedAt),
      resolution: a.resolution
        ? {
            kind: a.resolution.kind,
            by: a.resolution.by,
            at: iso(a.resolution.at),
            reason: a.resolution.reason,
          }
        : null,
    },
  };
}

/** The version of the grouped webhook payload (`type: alert.group`). */
export const GROUP_PAYLOAD_VERSION = 2;

/**
 * The JSON body of a group message, version 2: the group, counts, the worst members (each in the
 * version 1 `data` shape) and the summary alerts of label sets beyond the per-rule cap.
 */
export function webhookGroupPayload(g: GroupNotification): Record<string, unknown> {
  const f = groupFacts(g);
  const summaries = g.members.filter((n) => overflowCount(n) > 0);
  return {
    type: 'alert.group',
    timestamp: iso(g.at),
    version: GROUP_PAYLOAD_VERSION,
    data: {
      notification_id: g.id,
      channel: g.channel,
      group: groupData(g.group),
      status: f.firing > 0 ? 'firing' : 'resolved',
      summary: f.headline,
      text: groupText(g, f),
      link: g.link,
      counts: {
        alerts: g.members.length,
        firing: f.firing,
        resolved: f.resolved,
        label_sets_firing: f.firingLabelSets,
        label_sets_resolved: f.resolvedLabelSets,
        beyond_cap: f.beyondCap,
        by_severity: f.bySeverity,
      },
      alerts: [...f.listed, ...summaries].map(alertData),
      omitted: f.omitted,
      inhibits: f.inhibits,
    },
  };
}

/** The JSON body sent for a notification. */
export function webhookPayload(n: Notification): Record<string, unknown> {
  return {
    type: eventType(n),
    timestamp: iso(n.at),
    version: PAYLOAD_VERSION,
    data:
      n.event === 'summary'
        ? { notification_id: n.id, channel: n.channel, link: n.link, summary: n.summary }
        : alertData(n),
  };
}
