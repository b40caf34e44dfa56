/** `notifications`: channels, routing, escalation and the outbox's delivery policy. */
import { z } from 'zod';
import { ALERT_TYPES, SEVERITIES } from '../../domain/alert.js';
import { NOTIFIER_OPTIONS } from '../../notifiers/kinds.js';
import { pluginList } from '../plugin-list.js';
import { anyDuration, count, duration, nonEmpty, obj } from '../zod-helpers.js';

export const channelCommon = {
  name: nonEmpty(),
  kind: z.string(),
  /** Severities this channel takes (default: medium and up). */
  severities: z.array(z.enum(SEVERITIES)).default(['medium', 'high', 'critical']),
  types: z.array(z.enum(ALERT_TYPES)).default([...ALERT_TYPES]),
  /** At most `max` messages per `per`; more are batched. */
  rate_limit: obj({
    max: z.number().int().min(1).max(10_000),
    per: anyDuration({ min: '1s', max: '1d' }),
  }).optional(),
  /** Only notified on escalation (see `escalate_after`). */
  escalation_only: z.boolean().default(false),
  /** Tell this channel when an alert it was told about resolves. */
  send_resolved: z.boolean().default(true),
};

export const notificationsSection = obj({
  channels: pluginList('channel', channelCommon, () => NOTIFIER_OPTIONS)
    .superRefine((channels, ctx) => {
      const seen = new Set<string>();
      channels.forEach((c, i) => {
        if (seen.has(c.name)) {
          ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate channel name "${c.name}"` });
        }
        seen.add(c.name);
      });
    })
    .default([]),
  /**
   * Notifications are grouped per rule (and `group_by` labels) and channel: the first of a group goes at
   * once, those that follow within `group_interval` of a group message go together as one message.
   */
  grouping: obj({
    enabled: z.boolean().default(true),
    /** Label names that split a rule's group (default: one group per rule and channel). */
    group_by: z.array(nonEmpty()).default([]),
    /** How long the first notification of a new group waits for others (0s: a lone alert goes at once). */
    group_wait: duration('0s', { max: '5m' }),
    /** After a group message, the next one of the same group waits this long, gathering what comes. */
    group_interval: duration('1m', { min: '1s', max: '1d' }),
    /** Members listed by name in a grouped message (the worst first); the rest are counted. */
    max_listed: count(10, 1, 100),
  }).prefault({}),
  /** A critical alert still firing after this is sent to the escalation channels too. */
  escalate_after: duration('30m', { max: '30d' }),
  outbox: obj({
    /** Give up on a notification this old, and raise a `system` alert about the channel. */
    max_age: duration('24h', { min: '1m', max: '30d' }),
    attempt_timeout: duration('10s', { min: '100ms', max: '5m' }),
    min_backoff: duration('1s', { min: '100ms', max: '1h' }),
    max_backoff: duration('5m', { min: '1s', max: '1d' }),
    /** Longest the worker sleeps between looks at the outbox (new notifications wake it at once). */
    poll_interval: duration('5s', { min: '100ms', max: '5m' }),
  })
    .refine((o) => o.min_backoff <= o.max_backoff, {
      error: 'min_backoff must be at most max_backoff',
      path: ['min_backoff'],
    })
    .prefault({}),
}).prefault({});
