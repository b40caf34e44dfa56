/** The notifier plugin contract: one folder per channel kind under `src/notifiers/`, one line in the registry. */
import type { z } from 'zod';
import type { ResolvedConfig } from '../config/load.js';
import type { Clock } from '../core/clock.js';

/** Common keys of every entry in `notifications.channels`. */
export interface ChannelSpecBase {
  name: string;
  kind: string;
}

/** What a notifier is asked to deliver (built by the pipeline from an alert transition). */
export interface Notification {
  /** Unique per (alert, transition, channel); the same on every retry. */
  id: string;
  channel: string;
  [key: string]: unknown;
}

/** Whether a send worked, and if not whether trying again may help. */
export type SendOutcome =
  | { ok: true; statusCode?: number }
  | {
      ok: false;
      retryable: boolean;
      reason: string;
      error?: Error;
      statusCode?: number;
      retryAfterMs?: number;
    };

/** A channel that can deliver a notification. */
export interface Notifier {
  readonly kind: string;
  readonly name: string;
  send(n: Notification, signal: AbortSignal): Promise<SendOutcome>;
  close?(): Promise<void>;
}

/** What a notifier may use besides its own options. */
export interface NotifierContext {
  clock: Clock;
  config: ResolvedConfig;
}

/** A channel kind: its options (beside the common keys) and how to build one. */
export interface NotifierDefinition<O = Record<string, unknown>> {
  kind: string;
  shape: z.ZodRawShape;
  create(spec: ChannelSpecBase & O, ctx: NotifierContext): Notifier;
}
