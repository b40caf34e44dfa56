/** Small named values prodmon keeps across restarts (last evaluation, last status change...). */

import type { Kysely } from 'kysely';
import type { StateRepository } from '../../domain/state.js';
import type { Database } from '../schema.js';
import { fromJson, toJson } from './json.js';

export class StateRepo implements StateRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The value of `key`, or undefined. */
  async get<T>(key: string): Promise<T | undefined> {
    const r = await this.db.selectFrom('state').select('value').where('key', '=', key).executeTakeFirst();
    return r ? fromJson<T | undefined>(r.value, undefined) : undefined;
  }

  /** Sets `key` to a JSON-serialisable value. */
  async set(key: string, value: unknown, now: number): Promise<void> {
    await this.db
      .insertInto('state')
      .values({ key, value: toJson(value), updatedAt: now })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: toJson(value), updatedAt: now }))
      .execute();
  }
}
