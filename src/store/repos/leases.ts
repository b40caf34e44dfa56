/**
 * Leases: a named lock held by one holder until it expires, with an epoch that grows at every change
 * of holder. The epoch is the fencing token: leader-only writes check it in the same transaction.
 */

import { type Kysely, PostgresAdapter, sql } from 'kysely';
import type { Lease } from '../../domain/lease.js';
import type { LeaseRepository } from '../../jobs/repository.js';
import type { Database } from '../schema.js';

export class LeaseRepo implements LeaseRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Takes or renews `name` for `holder` until `now + ttlMs`, in one atomic statement: succeeds when the
   * lease is free, expired, or already ours. Returns the lease, or null when another holder has it.
   */
  async acquire(name: string, holder: string, ttlMs: number, now: number): Promise<Lease | null> {
    const row = await this.db
      .insertInto('leases')
      .values({ name, holder, epoch: 1, expiresAt: now + ttlMs })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({
            holder: (eb) => eb.ref('excluded.holder'),
            expiresAt: (eb) => eb.ref('excluded.expiresAt'),
            epoch: sql<number>`case when leases.holder = excluded.holder then leases.epoch else leases.epoch + 1 end`,
          })
          .where((eb) => eb.or([eb('leases.holder', '=', holder), eb('leases.expiresAt', '<', now)])),
      )
      .returningAll()
      .executeTakeFirst();
    return row ?? null;
  }

  /** The lease as stored, if any. */
  async get(name: string): Promise<Lease | undefined> {
    return this.db.selectFrom('leases').selectAll().where('name', '=', name).executeTakeFirst();
  }

  /** Whether `holder` still holds `name` at `epoch` and it has not expired (the fencing check). */
  async holds(name: string, holder: string, epoch: number, now: number): Promise<boolean> {
    const r = await this.db
      .selectFrom('leases')
      .select('name')
      .where('name', '=', name)
      .where('holder', '=', holder)
      .where('epoch', '=', epoch)
      .where('expiresAt', '>=', now)
      .executeTakeFirst();
    return r !== undefined;
  }

  /**
   * Takes `name` for `holder` even though it has not expired, only if it is still at `fromEpoch` (the
   * holder's session is known to be gone): the epoch grows by one. Returns the lease, or null when it
   * changed meanwhile.
   */
  async seize(
    name: string,
    holder: string,
    ttlMs: number,
    now: number,
    fromEpoch: number,
  ): Promise<Lease | null> {
    const row = await this.db
      .updateTable('leases')
      .set({ holder, epoch: sql<number>`epoch + 1`, expiresAt: now + ttlMs })
      .where('name', '=', name)
      .where('epoch', '=', fromEpoch)
      .returningAll()
      .executeTakeFirst();
    return row ?? null;
  }

  /**
   * The fencing check inside a transaction: whether `holder` still holds `name` at `epoch`, unexpired,
   * locking the lease row until the transaction ends (SELECT ... FOR UPDATE on PostgreSQL; on SQLite a
   * no-op UPDATE, which takes the database's write lock), so no takeover can commit in between. On
   * PostgreSQL the transaction may then sit idle at most `idleTimeoutMs`: a holder frozen mid-transaction
   * (SIGSTOP, a long pause) has its session ended by the server, so it cannot block a takeover for long.
   */
  async fence(
    name: string,
    holder: string,
    epoch: number,
    now: number,
    idleTimeoutMs = 5000,
  ): Promise<boolean> {
    if (this.db.getExecutor().adapter instanceof PostgresAdapter) {
      const ms = Math.max(1, Math.round(idleTimeoutMs));
      await sql`select set_config('idle_in_transaction_session_timeout', ${String(ms)}, true)`.execute(
        this.db,
      );
      const r = await this.db
        .selectFrom('leases')
        .select('name')
        .where('name', '=', name)
        .where('holder', '=', holder)
        .where('epoch', '=', epoch)
        .where('expiresAt', '>=', now)
        .forUpdate()
        .executeTakeFirst();
      return r !== undefined;
    }
    const r = await this.db
      .updateTable('leases')
      .set({ expiresAt: (eb) => eb.ref('expiresAt') })
      .where('name', '=', name)
      .where('holder', '=', holder)
      .where('epoch', '=', epoch)
      .where('expiresAt', '>=', now)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Gives the lease up (only if ours). */
  async release(name: string, holder: string): Promise<void> {
    await this.db
      .updateTable('leases')
      .set({ expiresAt: 0 })
      .where('name', '=', name)
      .where('holder', '=', holder)
      .execute();
  }
}
