import type { Severity } from '../../domain/alert.js';
import { postJson } from '../http.js';
import { renderLine, renderText } from '../templates.js';
import type { AlertNotification, Notification, NotifierDefinition, SendOutcome } from '../types.js';
import { shape } from './options.js';

/** Options of an Alertmanager channel. */
export interface AlertmanagerOptions {
  url: string;
  headers: Record<string, string>;
  firing_ttl: number;
}

/** A label name Alertmanager accepts (`[a-zA-Z_][a-zA-Z0-9_]*`). */
export function labelName(name: string): string {
  const clean = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[a-zA-Z_]/.test(clean) ? clean : `_${clean}`;
}

const iso = (ms: number) => new Date(ms).toISOString();

function postable(n: AlertNotification, severity: Severity, endsAt: number): Record<string, unknown> {
  const a = n.alert;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(a.labels)) labels[labelName(k)] = v;
  Object.assign(labels, { alertname: a.rule, severity, type: a.type, prodmon_alert_id: a.id });
  return {
    labels,
    annotations: {
      summary: renderLine(n, 1024),
      description: renderText(n),
      message: a.message,
      ...(a.value !== null ? { value: String(a.value) } : {}),
      ...(a.threshold !== null ? { threshold: String(a.threshold) } : {}),
      ...(n.link ? { dashboard: n.link } : {}),
    },
    startsAt: iso(a.firingAt ?? a.createdAt),
    endsAt: iso(endsAt),
    ...(n.link ? { generatorURL: n.link } : {}),
  };
}

/** The postable alerts of one notification (a severity change also ends the alert of the old severity). */
export function alertmanagerAlerts(n: AlertNotification, firingTtl: number): Record<string, unknown>[] {
  const a = n.alert;
  if (n.event === 'resolved') return [postable(n, a.severity, a.resolvedAt ?? n.at)];
  if (n.event === 'test') return [postable(n, a.severity, n.at + 60_000)];
  const out = [postable(n, a.severity, n.at + firingTtl)];
  if (n.previousSeverity && n.previousSeverity !== a.severity)
    out.unshift(postable(n, n.previousSeverity, n.at));
  return out;
}

/** The API endpoint of a configured URL (a base URL gets `/api/v2/alerts`). */
export function alertsEndpoint(url: string): string {
  return /\/api\/v2\/alerts\/?$/.test(url) ? url : `${url.replace(/\/+$/, '')}/api/v2/alerts`;
}

export const alertmanagerNotifier: NotifierDefinition<AlertmanagerOptions> = {
  kind: 'alertmanager',
  shape,

  create(spec, ctx) {
    const endpoint = alertsEndpoint(spec.url);
    const post = (ns: Notification[], signal: AbortSignal): Promise<SendOutcome> => {
      const alerts = ns
        .filter((n): n is AlertNotification => n.event !== 'summary')
        .flatMap((n) => alertmanagerAlerts(n, spec.firing_ttl));
      if (alerts.length === 0) {
        return Promise.resolve({
          ok: false,
          retryable: false,
          reason: 'alertmanager channels do not take the daily summary',
        });
      }
      return postJson({
        url: endpoint,
        body: JSON.stringify(alerts),
        headers: spec.headers,
        signal,
        now: () => ctx.clock.now(),
      });
    };
    return {
      kind: 'alertmanager',
      name: spec.name,
      batchMax: 50,
      send: (n, signal) => post([n], signal),
      sendBatch: post,
      // Alertmanager groups by itself: a group message posts each member's alert.
      sendGroup: (g, signal) => post(g.members, signal),
    };
  },
};
