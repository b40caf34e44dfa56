/** The audit trail: who did what, when (manual resolutions, silences, config changes, token use). */

import type { Kysely } from 'kysely';
import type { AuditRepository } from '../../alerting/repository.js';
import { newId } from '../../core/ids.js';
import type { AuditEntry } from '../../domain/audit.js';
import type { Database } from '../schema.js';
import { fromJson, toJson } from './json.js';

export class AuditRepo implements AuditRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Appends an entry; returns it with its id. */
  async append(e: Omit<AuditEntry, 'id'>): Promise<AuditEntry> {
    const entry = { ...e, id: newId(e.at, 'au_') };
    await this.db
      .insertInto('audit')
      .values({ ...entry, detail: toJson(entry.detail) })
      .execute();
    return entry;
  }

  /** Entries, newest first, optionally for one target. */
  async list(opts: { target?: string; since?: number; limit?: number } = {}): Promise<AuditEntry[]> {
    let q = this.db.selectFrom('audit').selectAll();
    if (opts.target) q = q.where('target', '=', opts.target);
    if (opts.since !== undefined) q = q.where('at', '>=', opts.since);
    const rows = await q
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(opts.limit ?? 100)
      .execute();
    return rows.map((r) => ({ ...r, detail: fromJson(r.detail, {}) }));
  }
}
