/** The outbox: notifications waiting for (or done with) delivery, and each attempt. */

export type OutboxStatus = 'pending' | 'delivered' | 'failed' | 'dead';

/** A notification waiting for (or done with) delivery. */
export interface OutboxItem {
  id: string;
  key: string;
  alertId: string | null;
  transition: string;
  channel: string;
  payload: Record<string, unknown>;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
  lastError: string | null;
  /** The notification group (rule and channel), null or absent when not grouped. */
  groupKey?: string | null;
  /** The group message carrying this row once claimed (the same id on every attempt). */
  batchId?: string | null;
}

/** One attempt to deliver an outbox item. */
export interface Delivery {
  id: string;
  outboxId: string;
  at: number;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** A notification to add to the outbox (keyed: a second one with the same key is not added). */
export interface NewOutboxItem {
  key: string;
  alertId: string | null;
  transition: string;
  channel: string;
  payload: Record<string, unknown>;
  now: number;
  /** The notification group, when grouped. */
  groupKey?: string | null;
}
