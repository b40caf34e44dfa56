/** The durable outbox of notifications and the log of every delivery attempt. */
import type { Kysely } from 'kysely';
import { newId } from '../../core/ids.js';
import type { Database, OutboxTable } from '../schema.js';
import { fromJson, toJson } from './json.js';

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

const toItem = (r: OutboxTable): OutboxItem => ({
  ...r,
  status: r.status as OutboxStatus,
  payload: fromJson(r.payload, {}),
});

export class OutboxRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Adds a notification unless one with the same key exists (then nothing happens).
   * Returns whether it was added.
   */
  async enqueue(item: {
    key: string;
    alertId: string | null;
    transition: string;
    channel: string;
    payload: Record<string, unknown>;
    now: number;
  }): Promise<boolean> {
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
