/** The prodmon processes that share the store, with their heartbeats. */
import type { Kysely } from 'kysely';
import type { InstanceInfo } from '../../domain/instance.js';
import type { InstanceRepository } from '../../jobs/repository.js';
import type { Database } from '../schema.js';

export class InstanceRepo implements InstanceRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Registers or refreshes an instance's heartbeat. */
  async heartbeat(info: Omit<InstanceInfo, 'lastSeenAt'>, now: number): Promise<void> {
    await this.db
      .insertInto('instances')
      .values({ ...info, lastSeenAt: now })
      // A restart under a fixed `instance` name is a new process: its pid, host and start replace the old.
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({
          lastSeenAt: now,
          version: info.version,
          host: info.host,
          pid: info.pid,
          startedAt: info.startedAt,
        }),
      )
      .execute();
  }

  /** Instances seen since `since`, most recent first. */
  async list(since = 0): Promise<InstanceInfo[]> {
    return this.db
      .selectFrom('instances')
      .selectAll()
      .where('lastSeenAt', '>=', since)
      .orderBy('lastSeenAt', 'desc')
      .execute();
  }

  /** Removes an instance (on clean shutdown). */
  async remove(id: string): Promise<void> {
    await this.db.deleteFrom('instances').where('id', '=', id).execute();
  }
}
