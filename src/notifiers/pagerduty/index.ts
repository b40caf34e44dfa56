/**
 * `pagerduty`: Events API v2. Firing, escalations and reminders `trigger` with `dedup_key` = the alert id
 * (so they land on one PagerDuty alert); the resolution `resolve`s the same key. With grouping (the
 * default), the key is the group's: one PagerDuty alert per rule, resolved when none of its alerts is
 * open any more. 202 is success, 400 is permanent, 429 and 5xx are retried.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { SEVERITIES, type Severity } from '../../domain/alert.js';
import { oneLine, truncate } from '../escape.js';
import { countsLine, groupFacts, groupName, memberLine } from '../group.js';
import { postJson } from '../http.js';
import { alertFields, inhibitedText } from '../message.js';
import { renderLine } from '../templates.js';
import type {
  AlertNotification,
  GroupInfo,
  GroupNotification,
  Notification,
  NotifierDefinition,
  SendOutcome,
} from '../types.js';
import { shape } from './options.js';

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

type EventOptions = PagerDutyOptions & { clientUrl: string | null };

/** An Events API v2 `resolve` of `dedupKey`. */
function resolveEvent(o: EventOptions, dedupKey: string): Record<string, unknown> {
  return { routing_key: o.routing_key, dedup_key: dedupKey, event_action: 'resolve' };
}

/** An Events API v2 `trigger` of `dedupKey`: the channel's source, component, group and client link around `e`. */
function triggerEvent(
  o: EventOptions,
  dedupKey: string,
  e: {
    summary: string;
    severity: Severity;
    at: number;
    type: string;
    rule: string;
    details: Record<string, unknown>;
    link: { href: string | null; text: string };
  },
): Record<string, unknown> {
  return {
    routing_key: o.routing_key,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: e.summary,
      source: o.source ?? hostname(),
      severity: PD_SEVERITY[e.severity],
      timestamp: new Date(e.at).toISOString(),
      ...(o.component ? { component: o.component } : {}),
      group: o.group ?? e.type,
      class: e.rule,
      custom_details: e.details,
    },
    client: 'prodmon',
    ...(o.clientUrl ? { client_url: o.clientUrl } : {}),
    ...(e.link.href ? { links: [{ href: e.link.href, text: e.link.text }] } : {}),
  };
}

/** The Events API v2 body of a notification. */
export function pagerDutyEvent(
  n: AlertNotification,
  o: EventOptions,
  dedupKey = n.alert.id,
): Record<string, unknown> {
  if (n.event === 'resolved') return resolveEvent(o, dedupKey);
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
    ...(f.deploy ? { deploy: f.deploy } : {}),
    reminders: n.reminders ?? 0,
    previous_severity: n.previousSeverity ?? null,
    alert_id: a.id,
    link: n.link,
  };
  return triggerEvent(o, dedupKey, {
    summary: renderLine(n, 1024),
    severity: a.severity,
    at: n.at,
    type: a.type,
    rule: a.rule,
    details,
    link: { href: n.link, text: 'View alert in prodmon' },
  });
}

/** The `dedup_key` of a group: one PagerDuty alert per group (at most 255 characters). */
export function groupDedupKey(key: string): string {
  const k = `prodmon-group:${key}`;
  return k.length <= 255 ? k : `prodmon-group:${createHash('sha256').update(key).digest('hex')}`;
}

/**
 * The Events API v2 body of a group message (or a lone member of a group): one PagerDuty alert per
 * group, keyed `dedup_key` = the group's. It resolves once nothing it was told of is still open;
 * until then a message (also one of resolutions only) triggers the same key, which PagerDuty adds
 * to the open alert's log without paging again.
 */
export function pagerDutyGroupEvent(g: GroupNotification, o: EventOptions): Record<string, unknown> {
  const f = groupFacts(g);
  const dedupKey = groupDedupKey(g.group.key);
  if (f.firing === 0 && g.group.open === 0) return resolveEvent(o, dedupKey);
  const summary = f.firing > 0 ? f.headline : `${groupName(g)}: ${countsLine(f)}`;
  const open = g.members.filter((n) => n.event !== 'resolved');
  const severity = (open.length ? open : g.members).reduce<Severity>(
    (w, n) => (SEVERITIES.indexOf(n.alert.severity) > SEVERITIES.indexOf(w) ? n.alert.severity : w),
    'low',
  );
  const inhibited = inhibitedText(f.inhibits);
  return triggerEvent(o, dedupKey, {
    summary: truncate(oneLine(summary), 1024),
    severity,
    at: g.at,
    type: g.members[0]!.alert.type,
    rule: g.group.rule,
    details: {
      group: g.group.key,
      rule: g.group.rule,
      counts: countsLine(f),
      firing: f.firing,
      resolved: f.resolved,
      label_sets_firing: f.firingLabelSets,
      beyond_cap: f.beyondCap,
      open: g.group.open,
      worst: f.listed.map((n) => memberLine(n, g.group.labels)),
      omitted: f.omitted,
      ...(inhibited ? { suppressing: inhibited } : {}),
      link: g.link,
    },
    link: { href: g.link, text: 'View the alerts in prodmon' },
  });
}

/** A lone member of a group, as a one-member group message (its own summary when it fires). */
function loneGroupEvent(
  n: AlertNotification & { group: GroupInfo },
  o: EventOptions,
): Record<string, unknown> {
  const open = n.group.open ?? 0;
  const key = groupDedupKey(n.group.key);
  if (n.event === 'resolved' && open === 0) return pagerDutyEvent(n, o, key);
  if (n.event !== 'resolved') {
    const event = pagerDutyEvent(n, o, key);
    const details = (event.payload as { custom_details: Record<string, unknown> }).custom_details;
    details.group = n.group.key;
    details.open = open;
    if (n.inhibits?.length) details.suppressing = inhibitedText(n.inhibits);
    return event;
  }
  return pagerDutyGroupEvent(
    {
      id: n.id,
      channel: n.channel,
      event: 'group',
      at: n.at,
      link: n.link,
      group: { ...n.group, open },
      members: [n],
      maxListed: 10,
    },
    o,
  );
}

export const pagerDutyNotifier: NotifierDefinition<PagerDutyOptions> = {
  kind: 'pagerduty',
  shape,

  create(spec, ctx) {
    const o = { ...spec, clientUrl: ctx.dashboardUrl };
    const post = (event: unknown, signal: AbortSignal) =>
      postJson({ url: spec.url, body: JSON.stringify(event), signal, now: () => ctx.clock.now() });
    return {
      kind: 'pagerduty',
      name: spec.name,
      async send(n: Notification, signal: AbortSignal): Promise<SendOutcome> {
        if (n.event === 'summary') {
          return { ok: false, retryable: false, reason: 'pagerduty channels do not take the daily summary' };
        }
        if (n.event !== 'test')
          return post(n.group ? loneGroupEvent({ ...n, group: n.group }, o) : pagerDutyEvent(n, o), signal);
        // A test opens an alert and resolves it at once, so nobody is left with an open incident.
        const key = `prodmon-test-${n.id}`;
        const opened = await post(pagerDutyEvent(n, o, key), signal);
        if (!opened.ok) return opened;
        return post(pagerDutyEvent({ ...n, event: 'resolved' }, o, key), signal);
      },
      sendGroup: (g, signal) => post(pagerDutyGroupEvent(g, o), signal),
    };
  },
};
