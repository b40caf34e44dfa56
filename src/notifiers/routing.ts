/**
 * Routing (pure): which channels a transition goes to. By default a channel takes medium, high and
 * critical alerts of every type; `low` goes nowhere. Escalations also go to `escalation_only` channels;
 * a resolution goes to every channel that was told about the alert.
 */

import type { AlertType, Severity } from '../domain/alert.js';
import type { Labels } from '../domain/labels.js';
import type { TransitionKind } from '../domain/transition.js';
import { FAILING_CHANNEL_LABEL } from './message.js';

/** What routing needs to know of a channel. */
export interface RouteChannel {
  name: string;
  severities: readonly Severity[];
  types: readonly AlertType[];
  escalation_only: boolean;
  /** Send resolutions (default true). */
  send_resolved?: boolean;
}

/** What routing needs to know of a transition. */
export interface RouteInput {
  kind: TransitionKind;
  alert: { severity: Severity; type: AlertType; labels: Labels };
}

/** Whether a channel takes alerts of this severity and type. */
export function takes(ch: RouteChannel, alert: RouteInput['alert']): boolean {
  return ch.severities.includes(alert.severity) && ch.types.includes(alert.type);
}

/**
 * Names of the channels `t` goes to, in config order. `told` holds the channels already notified about
 * this alert (their outbox rows): resolutions and de-escalations go to them.
 */
export function route(t: RouteInput, channels: readonly RouteChannel[], told: ReadonlySet<string>): string[] {
  // A `system` alert about a failing channel is sent to the *other* channels.
  const about = t.alert.type === 'system' ? t.alert.labels[FAILING_CHANNEL_LABEL] : undefined;
  const out = channels.filter((ch) => {
    if (ch.name === about) return false;
    const regular = !ch.escalation_only && takes(ch, t.alert);
    switch (t.kind) {
      case 'resolved':
        return told.has(ch.name) && ch.send_resolved !== false;
      case 'deescalated':
        return regular || told.has(ch.name);
      case 'escalation':
        return takes(ch, t.alert);
      default:
        return regular;
    }
  });
  return out.map((ch) => ch.name);
}
