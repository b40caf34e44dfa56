/**
 * `pagerduty`: Events API v2. Firing, escalations and reminders `trigger` with `dedup_key` = the alert id
 * (so they land on one PagerDuty alert); the resolution `resolve`s the same key. 202 is success, 400 is
 * permanent, 429 and 5xx are retried.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import type { Severity } from '../../core/types.js';
import { postJson } from '../http.js';
import { alertFields, dashboardBase } from '../message.js';
import { renderLine } from '../templates.js';
import type { AlertNotification, Notification, NotifierDefinition, SendOutcome } from '../types.js';

/** Options of a PagerDuty channel. */
export interface PagerDutyOptions {
  routing_key: string;
  url: string;
  source?: string;
  component?: string;
  group?: string;
}

/** prodmon severity -> PagerDuty severity. */
export const PD_SEVERITY: Record<Severity, 'critical' | 'error' | 'warning' | 'info'> = {
  critical: 'critical',
  high: 'error',
  medium: 'warning',
  low: 'info',
};

/** The Events API v2 body of a notification. */
export function pagerDutyEvent(
  n: AlertNotification,
  o: PagerDutyOptions & { clientUrl: string | null },
  dedupKey = n.alert.id,
): Record<string, unknown> {
  if (n.event === 'resolved')
    return { routing_key: o.routing_key, dedup_key: dedupKey, event_action: 'resolve' };
  const a = n.alert;
  const f = alertFields(n);
  const details: Record<string, unknown> = {
    message: a.message,
    event: n.event,
    rule: a.rule,
    type: a.type,
    severity: a.severity,
    value: a.value,
    threshold: a.threshold,
    labels: a.labels,
    firing_since: f.since || null,
    reminders: n.reminders ?? 0,
    previous_severity: n.previousSeverity ?? null,
    alert_id: a.id,
    link: n.link,
  };
  return {
    routing_key: o.routing_key,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: renderLine(n, 1024),
      source: o.source ?? hostname(),
      severity: PD_SEVERITY[a.severity],
      timestamp: new Date(n.at).toISOString(),
      ...(o.component ? { component: o.component } : {}),
      group: o.group ?? a.type,
      class: a.rule,
      custom_details: details,
    },
    client: 'prodmon',
    ...(o.clientUrl ? { client_url: o.clientUrl } : {}),
    ...(n.link ? { links: [{ href: n.link, text: 'View alert in prodmon' }] } : {}),
  };
}

export const pagerDutyNotifier: NotifierDefinition<PagerDutyOptions> = {
  kind: 'pagerduty',
  shape: {
    routing_key: z.string().min(1, { error: 'must not be empty' }),
    url: z.string().url().default('https://events.pagerduty.com/v2/enqueue'),
    /** `payload.source` (default: this host's name). */
    source: z.string().min(1).optional(),
    component: z.string().min(1).optional(),
    group: z.string().min(1).optional(),
  },
  create(spec, ctx) {
    const o = { ...spec, clientUrl: dashboardBase(ctx.config) };
    const post = (event: unknown, signal: AbortSignal) =>
      postJson({ url: spec.url, body: JSON.stringify(event), signal, now: () => ctx.clock.now() });
    return {
      kind: 'pagerduty',
      name: spec.name,
      async send(n: Notification, signal: AbortSignal): Promise<SendOutcome> {
        if (n.event === 'summary') {
          return { ok: false, retryable: false, reason: 'pagerduty channels do not take the daily summary' };
        }
        if (n.event !== 'test') return post(pagerDutyEvent(n, o), signal);
        // A test opens an alert and resolves it at once, so nobody is left with an open incident.
        const key = `prodmon-test-${n.id}`;
        const opened = await post(pagerDutyEvent(n, o, key), signal);
        if (!opened.ok) return opened;
        return post(pagerDutyEvent({ ...n, event: 'resolved' }, o, key), signal);
      },
    };
  },
};
