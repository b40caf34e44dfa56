/** The durable outbox of notifications and the log of every delivery attempt. */

import type { Kysely } from 'kysely';
import { newId } from '../../core/ids.js';
import type { Delivery, NewOutboxItem, OutboxItem, OutboxStatus } from '../../domain/outbox.js';
import type { OutboxRepository } from '../../notifiers/outbox/repository.js';
import type { Database, OutboxTable } from '../schema.js';
import { fromJson, toJson } from './json.js';

const toItem = (r: OutboxTable): OutboxItem => ({
  ...r,
  status: r.status as OutboxStatus,
  payload: fromJson(r.payload, {}),
});

export class OutboxRepo implements OutboxRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Adds a notification unless one with the same key exists (then nothing happens).
   * Returns whether it was added.
   */
  async enqueue(item: NewOutboxItem): Promise<boolean> {
    const r = await this.db
      .insertInto('outbox')
      .values({
        id: newId(item.now, 'nt_'),
        key: item.key,
        alertId: item.alertId,
        transition: item.transition,
        channel: item.channel,
        payload: toJson(item.payload),
        status: 'pending',
        attempts: 0,
        nextAttemptAt: item.now,
        createdAt: item.now,
        updatedAt: item.now,
        deliveredAt: null,
        lastError: null,
        groupKey: item.groupKey ?? null,
        batchId: null,
      })
      .onConflict((oc) => oc.column('key').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Pending items due at `now`, oldest first. */
  async due(now: number, limit = 50): Promise<OutboxItem[]> {
    const rows = await this.db
      .selectFrom('outbox')
      .selectAll()
      .where('status', '=', 'pending')
      .where('nextAttemptAt', '<=', now)
      .orderBy('nextAttemptAt')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toItem);
  }

  /** Every pending item (due or waiting), oldest first: the worker's view of the backlog. */
  async pending(limit = 500): Promise<OutboxItem[]> {
    const rows = await this.db
      .selectFrom('outbox')
      .selectAll()
      .where('status', '=', 'pending')
      .orderBy('createdAt')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toItem);
  }

  /** Every pending item of a group on a channel, oldest first (claimed or not). */
  async pendingGroup(channel: string, groupKey: string): Promise<OutboxItem[]> {
    const rows = await this.db
      .selectFrom('outbox')
      .selectAll()
      .where('groupKey', '=', groupKey)
      .where('channel', '=', channel)
      .where('status', '=', 'pending')
      .orderBy('createdAt')
      .orderBy('id')
      .execute();
    return rows.map(toItem);
  }

  /** The pending items a group message claimed, oldest first. */
  async pendingBatch(batchId: string): Promise<OutboxItem[]> {
    const rows = await this.db
      .selectFrom('outbox')
      .selectAll()
      .where('batchId', '=', batchId)
      .where('status', '=', 'pending')
      .orderBy('createdAt')
      .orderBy('id')
      .execute();
    return rows.map(toItem);
  }

  /**
   * Claims pending, unclaimed items for the group message `batchId` (before it is sent, so a re-send
   * after a crash carries the same id and members); returns how many were claimed.
   */
  async claim(ids: readonly string[], batchId: string, now: number): Promise<number> {
    let n = 0;
    for (let i = 0; i < ids.length; i += 500) {
      const r = await this.db
        .updateTable('outbox')
        .set({ batchId, updatedAt: now })
        .where('id', 'in', ids.slice(i, i + 500))
        .where('status', '=', 'pending')
        .where('batchId', 'is', null)
        .executeTakeFirst();
      n += Number(r.numUpdatedRows);
    }
    return n;
  }

  /** When a group message of a group on a channel was last claimed or attempted (null: none kept). */
  async lastGroupMessage(channel: string, groupKey: string): Promise<number | null> {
    const r = await this.db
      .selectFrom('outbox')
      .select((eb) => eb.fn.max('updatedAt').as('updated'))
      .where('groupKey', '=', groupKey)
      .where('channel', '=', channel)
      .where('batchId', 'is not', null)
      .executeTakeFirst();
    return r?.updated === null || r?.updated === undefined ? null : Number(r.updated);
  }

  /**
   * How many alerts of a group a channel was told (or is being told) of that are still open: a group
   * message says how many remain, and PagerDuty resolves the group's incident only at none.
   */
  async openInGroup(channel: string, groupKey: string): Promise<number> {
    const r = await this.db
      .selectFrom('outbox')
      .innerJoin('alerts', 'alerts.id', 'outbox.alertId')
      .select((eb) => eb.fn.count<number>('outbox.alertId').distinct().as('n'))
      .where('outbox.groupKey', '=', groupKey)
      .where('outbox.channel', '=', channel)
      .where('outbox.status', 'in', ['pending', 'delivered'])
      .where('alerts.status', '<>', 'resolved')
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Number of items in each status. */
  async counts(): Promise<Record<OutboxStatus, number>> {
    const rows = await this.db
      .selectFrom('outbox')
      .select(['status'])
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .groupBy('status')
      .execute();
    const out: Record<OutboxStatus, number> = { pending: 0, delivered: 0, failed: 0, dead: 0 };
    for (const r of rows) out[r.status as OutboxStatus] = Number(r.n);
    return out;
  }

  /**
   * Puts a failed or dead item back in the queue, due now, with a fresh age (`createdAt = now`) and no
   * attempts; returns whether it was re-queued (false for pending or delivered items).
   */
  async requeue(id: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('outbox')
      .set({
        status: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        createdAt: now,
        updatedAt: now,
        lastError: null,
        batchId: null,
      })
      .where('id', '=', id)
      .where('status', 'in', ['failed', 'dead'])
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** One item by id. */
  async get(id: string): Promise<OutboxItem | undefined> {
    const r = await this.db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toItem(r) : undefined;
  }

  /** Items in the given statuses, newest first. */
  async list(statuses: OutboxStatus[], limit = 100): Promise<OutboxItem[]> {
    const rows = await this.db
      .selectFrom('outbox')
      .selectAll()
      .where('status', 'in', statuses)
      .orderBy('createdAt', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toItem);
  }

  /** Items of an alert, oldest first. */
  async forAlert(alertId: string): Promise<OutboxItem[]> {
    const rows = await this.db
      .selectFrom('outbox')
      .selectAll()
      .where('alertId', '=', alertId)
      .orderBy('createdAt')
      .execute();
    return rows.map(toItem);
  }

  /** Number of pending items (the backlog). */
  async backlog(): Promise<number> {
    const r = await this.db
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'pending')
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Updates the delivery state of an item. */
  async setState(
    id: string,
    s: {
      status: OutboxStatus;
      attempts: number;
      nextAttemptAt: number;
      lastError: string | null;
      now: number;
    },
  ): Promise<void> {
    await this.db
      .updateTable('outbox')
      .set({
        status: s.status,
        attempts: s.attempts,
        nextAttemptAt: s.nextAttemptAt,
        lastError: s.lastError,
        updatedAt: s.now,
        deliveredAt: s.status === 'delivered' ? s.now : null,
      })
      .where('id', '=', id)
      .execute();
  }

  /** Logs one attempt. */
  async recordDelivery(d: Omit<Delivery, 'id'>): Promise<void> {
    await this.db
      .insertInto('deliveries')
      .values({ ...d, id: newId(d.at, 'dl_'), ok: d.ok ? 1 : 0 })
      .execute();
  }

  /** Attempts for an item, oldest first. */
  async deliveries(outboxId: string): Promise<Delivery[]> {
    const rows = await this.db
      .selectFrom('deliveries')
      .selectAll()
      .where('outboxId', '=', outboxId)
      .orderBy('at')
      .execute();
    return rows.map((r) => ({ ...r, ok: r.ok === 1 }));
  }

  /** Deletes finished items (and their delivery logs) older than `before`; returns how many items. */
  async deleteFinishedBefore(before: number): Promise<number> {
    const old = this.db
      .selectFrom('outbox')
      .select('id')
      .where('status', 'in', ['delivered', 'dead'])
      .where('updatedAt', '<', before);
    await this.db.deleteFrom('deliveries').where('outboxId', 'in', old).execute();
    const r = await this.db
      .deleteFrom('outbox')
      .where('status', 'in', ['delivered', 'dead'])
      .where('updatedAt', '<', before)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
