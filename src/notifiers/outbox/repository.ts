/** What the notification pipeline needs from the store: the durable outbox and its delivery log. */
import type { Delivery, NewOutboxItem, OutboxItem, OutboxStatus } from '../../domain/outbox.js';

/** The durable outbox of notifications and the log of every delivery attempt. */
export interface OutboxRepository {
  /**
   * Adds a notification unless one with the same key exists (then nothing happens).
   * Returns whether it was added.
   */
  enqueue(item: NewOutboxItem): Promise<boolean>;
  /** Pending items due at `now`, oldest first. */
  due(now: number, limit?: number): Promise<OutboxItem[]>;
  /** Every pending item (due or waiting), oldest first: the worker's view of the backlog. */
  pending(limit?: number): Promise<OutboxItem[]>;
  /** Every pending item of a group on a channel, oldest first (claimed or not). */
  pendingGroup(channel: string, groupKey: string): Promise<OutboxItem[]>;
  /** The pending items a group message claimed, oldest first. */
  pendingBatch(batchId: string): Promise<OutboxItem[]>;
  /**
   * Claims pending, unclaimed items for the group message `batchId` (before it is sent, so a re-send
   * after a crash carries the same id and members); returns how many were claimed.
   */
  claim(ids: readonly string[], batchId: string, now: number): Promise<number>;
  /** When a group message of a group on a channel was last claimed or attempted (null: none kept). */
  lastGroupMessage(channel: string, groupKey: string): Promise<number | null>;
  /**
   * How many alerts of a group a channel was told (or is being told) of that are still open: a group
   * message says how many remain, and PagerDuty resolves the group's incident only at none.
   */
  openInGroup(channel: string, groupKey: string): Promise<number>;
  /** Number of items in each status. */
  counts(): Promise<Record<OutboxStatus, number>>;
  /**
   * Puts a failed or dead item back in the queue, due now, with a fresh age (`createdAt = now`) and no
   * attempts; returns whether it was re-queued (false for pending or delivered items).
   */
  requeue(id: string, now: number): Promise<boolean>;
  /** One item by id. */
  get(id: string): Promise<OutboxItem | undefined>;
  /** Items in the given statuses, newest first. */
  list(statuses: OutboxStatus[], limit?: number): Promise<OutboxItem[]>;
  /** Items of an alert, oldest first. */
  forAlert(alertId: string): Promise<OutboxItem[]>;
  /** Number of pending items (the backlog). */
  backlog(): Promise<number>;
  /** Updates the delivery state of an item. */
  setState(
    id: string,
    s: {
      status: OutboxStatus;
      attempts: number;
      nextAttemptAt: number;
      lastError: string | null;
      now: number;
    },
  ): Promise<void>;
  /** Logs one attempt. */
  recordDelivery(d: Omit<Delivery, 'id'>): Promise<void>;
  /** Attempts for an item, oldest first. */
  deliveries(outboxId: string): Promise<Delivery[]>;
  /** Deletes finished items (and their delivery logs) older than `before`; returns how many items. */
  deleteFinishedBefore(before: number): Promise<number>;
}
