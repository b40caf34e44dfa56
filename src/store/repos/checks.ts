/** Health check results: history of every persisted run. */

import type { Kysely } from 'kysely';
import type { CheckResultRepository } from '../../checks/repository.js';
import { newId } from '../../core/ids.js';
import type { HealthCheckResult, HealthStatus, StoredCheckResult } from '../../domain/health.js';
import type { CheckResultTable, Database } from '../schema.js';
import { fromJson, toJson } from './json.js';

function toResult(r: CheckResultTable): StoredCheckResult {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    status: r.status as HealthStatus,
    responseTimeMs: r.responseTimeMs,
    details: fromJson(r.details, {}),
    error: r.error,
    critical: r.critical === 1,
    checkedAt: r.checkedAt,
  };
}

export class CheckResultRepo implements CheckResultRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Stores results (one row each). */
  async insert(results: readonly HealthCheckResult[]): Promise<void> {
    if (results.length === 0) return;
    await this.db
      .insertInto('checkResults')
      .values(
        results.map((r) => ({
          id: newId(r.checkedAt, 'hc_'),
          name: r.name,
          kind: r.kind,
          status: r.status,
          responseTimeMs: r.responseTimeMs,
          details: toJson(r.details),
          error: r.error,
          critical: r.critical ? 1 : 0,
          checkedAt: r.checkedAt,
        })),
      )
      .execute();
  }

  /** The newest result of each check. */
  async latest(): Promise<StoredCheckResult[]> {
    const newest = this.db
      .selectFrom('checkResults')
      .select(['name'])
      .select((eb) => eb.fn.max('checkedAt').as('at'))
      .groupBy('name')
      .as('n');
    const rows = await this.db
      .selectFrom('checkResults')
      .innerJoin(newest, (j) =>
        j.onRef('n.name', '=', 'checkResults.name').onRef('n.at', '=', 'checkResults.checkedAt'),
      )
      .selectAll('checkResults')
      .orderBy('checkResults.name')
      .execute();
    const seen = new Set<string>();
    return rows.filter((r) => !seen.has(r.name) && seen.add(r.name)).map(toResult);
  }

  /** Results of one check (or all) since a time, newest first. */
  async history(opts: {
    name?: string;
    since?: number;
    until?: number;
    limit?: number;
  }): Promise<StoredCheckResult[]> {
    let q = this.db.selectFrom('checkResults').selectAll();
    if (opts.name) q = q.where('name', '=', opts.name);
    if (opts.since !== undefined) q = q.where('checkedAt', '>=', opts.since);
    if (opts.until !== undefined) q = q.where('checkedAt', '<', opts.until);
    const rows = await q
      .orderBy('checkedAt', 'desc')
      .orderBy('id', 'desc')
      .limit(opts.limit ?? 1000)
      .execute();
    return rows.map(toResult);
  }

  /** Deletes results older than `before`; returns how many. */
  async deleteBefore(before: number): Promise<number> {
    const r = await this.db.deleteFrom('checkResults').where('checkedAt', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
