/** Deploy markers (src/domain/deployment.ts). */

import type { Kysely } from 'kysely';
import type { DeploymentRepository } from '../../deployments/repository.js';
import type { Deployment, DeploymentQuery } from '../../domain/deployment.js';
import type { Database, DeploymentTable } from '../schema.js';

const toDeployment = (r: DeploymentTable): Deployment => ({
  id: r.id,
  version: r.version,
  instance: r.instance,
  note: r.note,
  at: r.at,
  by: r.recordedBy,
});

export class DeploymentRepo implements DeploymentRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Stores a marker. */
  async record(d: Deployment): Promise<void> {
    await this.db
      .insertInto('deployments')
      .values({
        id: d.id,
        version: d.version,
        instance: d.instance,
        note: d.note,
        at: d.at,
        recordedBy: d.by,
      })
      .execute();
  }

  /** Markers with `since` <= at < `until` (of one instance exactly, when given), newest first. */
  async list(q: DeploymentQuery): Promise<Deployment[]> {
    let s = this.db.selectFrom('deployments').selectAll();
    if (q.since !== undefined) s = s.where('at', '>=', q.since);
    if (q.until !== undefined) s = s.where('at', '<', q.until);
    if (q.instance !== undefined) s = s.where('instance', '=', q.instance);
    const rows = await s.orderBy('at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
    return rows.map(toDeployment);
  }

  /** The newest marker of `version`; with `instance`, the newest of that instance or of the whole service. */
  async latestByVersion(version: string, instance?: string): Promise<Deployment | undefined> {
    let s = this.db.selectFrom('deployments').selectAll().where('version', '=', version);
    if (instance !== undefined)
      s = s.where((eb) => eb.or([eb('instance', '=', instance), eb('instance', 'is', null)]));
    const r = await s.orderBy('at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
    return r ? toDeployment(r) : undefined;
  }
}
