/**
 * The webhook payload, version 1 (documented in the README, Notifications → Payloads):
 * `{ type, timestamp, version, data }` following the Standard Webhooks payload recommendations.
 */
import { PAYLOAD_VERSION } from '../message.js';
import { renderLine, renderText } from '../templates.js';
import type { AlertNotification, Notification } from '../types.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The `type` of a notification: `alert.firing`, `alert.resolved`, ..., `prodmon.test`, `summary.daily`. */
export function eventType(n: Notification): string {
  if (n.event === 'summary') return 'summary.daily';
  if (n.event === 'test') return 'prodmon.test';
  return `alert.${n.event}`;
}

function alertData(n: AlertNotification) {
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
