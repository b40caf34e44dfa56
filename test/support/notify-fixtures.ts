/** Alerts, transitions and notifications for notification tests, including hostile text. */

import type { Alert } from '../../src/domain/alert.js';
import type { AlertTransition, TransitionKind } from '../../src/domain/transition.js';
import { alertSnapshot } from '../../src/notifiers/message.js';
import type { AlertNotification } from '../../src/notifiers/types.js';

/** 2026-01-01 12:00:00 UTC. */
export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

/** Text that would do harm if interpreted: HTML, Slack pings, Markdown, template syntax. */
export const HOSTILE =
  '<script>alert(1)</script> <b>bold</b> <!channel> <!here> <@U123> <#C42|general> & 1 < 2 > 0 ' +
  '*bold* _it_ ~strike~ `code` [link](http://evil.example) {{link}} {{{message}}} \u0007';

/** A firing alert (override any field). */
export function sampleAlert(over: Partial<Alert> = {}): Alert {
  return {
    id: 'al_test1',
    rule: 'api_response_time',
    fingerprint: 'api_response_time|route="/checkout"',
    type: 'performance',
    severity: 'high',
    status: 'firing',
    message: 'p95 latency 812 ms > 500 ms on /checkout',
    value: 812,
    threshold: 500,
    labels: { route: '/checkout' },
    metadata: {},
    createdAt: T0,
    updatedAt: T0,
    firingAt: T0,
    resolvedAt: null,
    resolution: null,
    ...over,
  };
}

/** A transition of `alert`; resolved transitions get a resolved alert. */
export function transition(
  kind: TransitionKind,
  alert: Alert = sampleAlert(),
  over: Partial<AlertTransition> = {},
): AlertTransition {
  const at = over.at ?? T0;
  const a =
    kind === 'resolved'
      ? {
          ...alert,
          status: 'resolved' as const,
          resolvedAt: at,
          resolution: { kind: 'auto' as const, by: 'prodmon', at, reason: 'back under threshold' },
        }
      : alert;
  return { id: `ev_${alert.id}_${kind}_${at}`, kind, alert: a, at, ...over };
}

/** A notification of a transition, as the worker would hand it to a notifier. */
export function notificationOf(t: AlertTransition, over: Partial<AlertNotification> = {}): AlertNotification {
  return {
    id: `nt_${t.id}`,
    channel: 'test',
    event: t.kind,
    transitionId: t.id,
    at: t.at,
    alert: alertSnapshot(t.alert),
    link: `https://prodmon.example/production/dashboard/#/alerts/${t.alert.id}`,
    ...(t.previousSeverity ? { previousSeverity: t.previousSeverity } : {}),
    ...(t.reminders !== undefined ? { reminders: t.reminders } : {}),
    ...over,
  };
}

import { parseConfig, type ResolvedConfig } from '../../src/config/load.js';
import { FakeClock } from '../../src/core/clock.js';
import { buildNotifier } from '../../src/notifiers/pipeline.js';
import type { Notifier } from '../../src/notifiers/types.js';

/** A validated config with these channels (and a public URL for links). */
export function configWith(
  channels: Record<string, unknown>[],
  extra: Record<string, unknown> = {},
): ResolvedConfig {
  return parseConfig(
    { server: { public_url: 'https://prodmon.example' }, notifications: { channels }, ...extra },
    { dataDir: '/tmp/prodmon-notify-test', env: {} },
  );
}

/** The notifier of one channel entry, validated like the config file. */
export function notifierFor(channel: Record<string, unknown>, clock = new FakeClock(T0)): Notifier {
  const config = configWith([channel]);
  return buildNotifier(config.notifications.channels[0]!, { clock, config });
}

/** A signal that never aborts. */
export const NEVER: AbortSignal = new AbortController().signal;
