/**
 * The notifier plugin contract: one folder per channel kind under `src/notifiers/` (its option schema in
 * `options.ts`, zod only; its implementation in `index.ts`), one line in `kinds.ts` (what the config
 * validates) and one in `registry.ts`.
 */
import type { z } from 'zod';
import type { Clock } from '../core/clock.js';
import type { Alert, Severity } from '../domain/alert.js';
import type { Labels } from '../domain/labels.js';
import type { TransitionKind } from '../domain/transition.js';
import type { DailySummary } from './summary/types.js';

/** Common keys of every entry in `notifications.channels`. */
export interface ChannelSpecBase {
  name: string;
  kind: string;
}

/** The alert as a notification carries it: a snapshot taken at the transition (no engine bookkeeping). */
export type AlertSnapshot = Omit<Alert, 'updatedAt'>;

/** What a notification is about. */
export type NotificationEvent = TransitionKind | 'test' | 'summary';

/** Fields every notification has. */
interface NotificationBase {
  /** Unique per (alert transition, channel): the outbox item id, the same on every retry (`webhook-id`). */
  id: string;
  channel: string;
  /** When the transition (or summary) happened, ms. */
  at: number;
  /** Link to the alert (or dashboard) for operators, when `server.public_url` is set. */
  link: string | null;
}

/** The notification group a notification went out in (grouping per rule and channel). */
export interface GroupInfo {
  /** The rule, plus the `group_by` label values when set: `api_response_time{route="/a"}`. */
  key: string;
  rule: string;
  /** The `group_by` label values (empty: one group per rule). */
  labels: Labels;
  /**
   * Alerts of the group still open that this channel was (or is being) told of, as of sending. Absent
   * in the stored payload; the worker fills it in.
   */
  open?: number;
}

/** An alert that a root-cause alert inhibits (not notified while the root cause fires). */
export interface InhibitedAlert {
  id: string;
  rule: string;
  severity: Severity;
  labels: Labels;
  message: string;
}

/** A transition of an alert (or a test message shaped like one). */
export interface AlertNotification extends NotificationBase {
  event: TransitionKind | 'test';
  transitionId: string;
  alert: AlertSnapshot;
  previousSeverity?: Severity;
  /** Reminders sent so far for this alert, this one included. */
  reminders?: number;
  /** The group it belongs to (grouped channels). */
  group?: GroupInfo;
  /** The alerts this alert inhibits, as of sending (a root cause lists what it suppresses). */
  inhibits?: InhibitedAlert[];
}

/**
 * Several transitions of one group, sent as one message: the first of a group goes alone, those that
 * follow within `group_interval` go together. Its id is the group message's (the same on every retry).
 */
export interface GroupNotification extends NotificationBase {
  event: 'group';
  group: GroupInfo & { open: number };
  /** The transitions it carries, oldest first (each with its own outbox id). */
  members: AlertNotification[];
  /** How many members a message lists by name (the worst first); the rest are counted. */
  maxListed: number;
}

/** The daily summary (email channels). */
export interface SummaryNotification extends NotificationBase {
  event: 'summary';
  summary: DailySummary;
}

/** What a notifier is asked to deliver (built by the pipeline; stored in the outbox as its payload). */
export type Notification = AlertNotification | SummaryNotification;

/** Whether a send worked, and if not whether trying again may help. */
export type SendOutcome =
  | { ok: true; statusCode?: number }
  | {
      ok: false;
      retryable: boolean;
      reason: string;
      error?: Error;
      statusCode?: number;
      /** The receiver asked to wait this long (Retry-After). */
      retryAfterMs?: number;
      /** The receiver says the endpoint is gone for good (HTTP 410): stop using the channel. */
      disable?: boolean;
    };

/** A channel that can deliver a notification. */
export interface Notifier {
  readonly kind: string;
  readonly name: string;
  send(n: Notification, signal: AbortSignal): Promise<SendOutcome>;
  /**
   * Sends several notifications as one message (digest). Kinds that have it get a batch when more are
   * due than the channel's rate limit lets through one by one.
   */
  sendBatch?(ns: Notification[], signal: AbortSignal): Promise<SendOutcome>;
  /** Sends the transitions of one group as one message (the kind's grouped format). */
  sendGroup?(g: GroupNotification, signal: AbortSignal): Promise<SendOutcome>;
  /** The kind's own rate limit when the channel sets none (e.g. Slack: 1 per second). */
  readonly defaultRateLimit?: { max: number; per: number };
  /** Most notifications one batch may carry. */
  readonly batchMax?: number;
  close?(): Promise<void>;
}

/** What a notifier may use besides its own options (built from the config by src/notifiers/pipeline.ts). */
export interface NotifierContext {
  clock: Clock;
  /** Longest one delivery attempt may take, ms (`notifications.outbox.attempt_timeout`). */
  attemptTimeout: number;
  /** The dashboard's public address, when `server.public_url` is set (links in messages). */
  dashboardUrl: string | null;
}

/** A channel kind: its options (beside the common keys) and how to build one. */
export interface NotifierDefinition<O = Record<string, unknown>> {
  kind: string;
  shape: z.ZodRawShape;
  create(spec: ChannelSpecBase & O, ctx: NotifierContext): Notifier;
}
