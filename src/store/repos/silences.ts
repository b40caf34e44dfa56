/** Silences: alerts matching them stay recorded but are not notified until they end. */

import type { Kysely } from 'kysely';
import type { SilenceRepository } from '../../alerting/repository.js';
import type { Silence } from '../../domain/silence.js';
import type { Database, SilenceTable } from '../schema.js';
import { fromJson, toJson } from './json.js';

const toSilence = (r: SilenceTable): Silence => ({ ...r, matchers: fromJson(r.matchers, {}) });

export class SilenceRepo implements SilenceRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Stores a silence. */
  async create(s: Silence): Promise<void> {
    await this.db
      .insertInto('silences')
      .values({ ...s, matchers: toJson(s.matchers) })
      .execute();
  }

  /** Silences in force at `now` (started, not ended, not expired by hand). */
  async active(now: number): Promise<Silence[]> {
    const rows = await this.db
      .selectFrom('silences')
      .selectAll()
      .where('startsAt', '<=', now)
      .where('endsAt', '>', now)
      .where('expiredAt', 'is', null)
      .orderBy('startsAt')
      .execute();
    return rows.map(toSilence);
  }

  /** All silences, newest first. */
  async list(limit = 100): Promise<Silence[]> {
    const rows = await this.db
      .selectFrom('silences')
      .selectAll()
      .orderBy('createdAt', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toSilence);
  }

  /** One silence. */
  async get(id: string): Promise<Silence | undefined> {
    const r = await this.db.selectFrom('silences').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toSilence(r) : undefined;
  }

  /** Ends a silence now; returns whether it was in force. */
  async expire(id: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('silences')
      .set({ expiredAt: now })
      .where('id', '=', id)
      .where('expiredAt', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
}
