/** Alerts and their history of transitions. */

import type { Kysely } from 'kysely';
import type { AlertRepository } from '../../alerting/repository.js';
import type {
  AlertEvent,
  AlertFilter,
  AlertStatus,
  AlertType,
  ResolutionKind,
  Severity,
  StoredAlert,
} from '../../domain/alert.js';
import type { AlertEventTable, AlertTable, Database } from '../schema.js';
import { fromJson, toJson } from './json.js';

function toRow(a: StoredAlert): AlertTable {
  return {
    id: a.id,
    rule: a.rule,
    fingerprint: a.fingerprint,
    type: a.type,
    severity: a.severity,
    status: a.status,
    message: a.message,
    value: a.value,
    threshold: a.threshold,
    labels: toJson(a.labels),
    metadata: toJson(a.metadata),
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
    firingAt: a.firingAt,
    resolvedAt: a.resolvedAt,
    resolutionKind: a.resolution?.kind ?? null,
    resolutionBy: a.resolution?.by ?? null,
    resolutionReason: a.resolution?.reason ?? null,
    state: toJson(a.state),
  };
}

function toAlert(r: AlertTable): StoredAlert {
  return {
    id: r.id,
    rule: r.rule,
    fingerprint: r.fingerprint,
    type: r.type as AlertType,
    severity: r.severity as Severity,
    status: r.status as AlertStatus,
    message: r.message,
    value: r.value,
    threshold: r.threshold,
    labels: fromJson(r.labels, {}),
    metadata: fromJson(r.metadata, {}),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    firingAt: r.firingAt,
    resolvedAt: r.resolvedAt,
    resolution:
      r.resolutionKind && r.resolvedAt !== null
        ? {
            kind: r.resolutionKind as ResolutionKind,
            by: r.resolutionBy ?? 'prodmon',
            at: r.resolvedAt,
            reason: r.resolutionReason ?? '',
          }
        : null,
    state: fromJson(r.state, {}),
  };
}

function toEvent(r: AlertEventTable): AlertEvent {
  return {
    ...r,
    status: r.status as AlertStatus,
    severity: r.severity as Severity,
    detail: fromJson(r.detail, {}),
  };
}

export class AlertRepo implements AlertRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Stores a new alert; fails if an open alert with the same fingerprint exists. */
  async insert(alert: StoredAlert): Promise<void> {
    await this.db.insertInto('alerts').values(toRow(alert)).execute();
  }

  /** Replaces a stored alert's fields. */
  async update(alert: StoredAlert): Promise<void> {
    const { id, ...rest } = toRow(alert);
    await this.db.updateTable('alerts').set(rest).where('id', '=', id).execute();
  }

  /**
   * Replaces a stored alert's fields only while it is still open (pending or firing); returns whether it
   * was. Guards an evaluation against a concurrent manual resolution.
   */
  async updateOpen(alert: StoredAlert): Promise<boolean> {
    const { id, ...rest } = toRow(alert);
    const r = await this.db
      .updateTable('alerts')
      .set(rest)
      .where('id', '=', id)
      .where('status', '<>', 'resolved')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** The newest alert of a fingerprint, open or resolved. */
  async lastByFingerprint(fingerprint: string): Promise<StoredAlert | undefined> {
    const r = await this.db
      .selectFrom('alerts')
      .selectAll()
      .where('fingerprint', '=', fingerprint)
      .orderBy('createdAt', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r ? toAlert(r) : undefined;
  }

  /** Alerts resolved at or after `since`, oldest resolution first. */
  async listResolvedSince(since: number, limit = 1000): Promise<StoredAlert[]> {
    const rows = await this.db
      .selectFrom('alerts')
      .selectAll()
      .where('status', '=', 'resolved')
      .where('resolvedAt', '>=', since)
      .orderBy('resolvedAt')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toAlert);
  }

  /** One alert by id. */
  async get(id: string): Promise<StoredAlert | undefined> {
    const r = await this.db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toAlert(r) : undefined;
  }

  /** The open (pending or firing) alert of a fingerprint. */
  async findOpen(fingerprint: string): Promise<StoredAlert | undefined> {
    const r = await this.db
      .selectFrom('alerts')
      .selectAll()
      .where('fingerprint', '=', fingerprint)
      .where('status', '<>', 'resolved')
      .executeTakeFirst();
    return r ? toAlert(r) : undefined;
  }

  /** Every open alert. */
  async listOpen(): Promise<StoredAlert[]> {
    const rows = await this.db
      .selectFrom('alerts')
      .selectAll()
      .where('status', '<>', 'resolved')
      .orderBy('createdAt')
      .execute();
    return rows.map(toAlert);
  }

  /** Open (pending or firing) alerts per severity (severities without one are left out). */
  async openBySeverity(): Promise<Partial<Record<Severity, number>>> {
    const rows = await this.db
      .selectFrom('alerts')
      .select(['severity'])
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '<>', 'resolved')
      .groupBy('severity')
      .execute();
    const out: Partial<Record<Severity, number>> = {};
    for (const r of rows) out[r.severity as Severity] = Number(r.n);
    return out;
  }

  /** A page of alerts matching the filter, newest first, with the total count. */
  async list(f: AlertFilter = {}): Promise<{ items: StoredAlert[]; total: number }> {
    let q = this.db.selectFrom('alerts');
    if (f.status?.length) q = q.where('status', 'in', f.status);
    if (f.severity?.length) q = q.where('severity', 'in', f.severity);
    if (f.type?.length) q = q.where('type', 'in', f.type);
    if (f.rule) q = q.where('rule', '=', f.rule);
    if (f.since !== undefined) q = q.where('createdAt', '>=', f.since);
    if (f.until !== undefined) q = q.where('createdAt', '<', f.until);
    const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await q
      .selectAll()
      .orderBy('createdAt', 'desc')
      .orderBy('id', 'desc')
      .limit(f.limit ?? 50)
      .offset(f.offset ?? 0)
      .execute();
    return { items: rows.map(toAlert), total: Number(total.n) };
  }

  /** Appends a transition to an alert's history. */
  async addEvent(e: AlertEvent): Promise<void> {
    await this.db
      .insertInto('alertEvents')
      .values({ ...e, detail: toJson(e.detail) })
      .execute();
  }

  /** Appends several transitions in one statement (at most a few hundred at a time). */
  async addEvents(events: readonly AlertEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db
      .insertInto('alertEvents')
      .values(events.map((e) => ({ ...e, detail: toJson(e.detail) })))
      .execute();
  }

  /** An alert's history, oldest first. */
  async events(alertId: string): Promise<AlertEvent[]> {
    const rows = await this.db
      .selectFrom('alertEvents')
      .selectAll()
      .where('alertId', '=', alertId)
      .orderBy('at')
      .orderBy('id')
      .execute();
    return rows.map(toEvent);
  }

  /** Resolved alerts (and their events) resolved before `before`; returns how many alerts. */
  async deleteResolvedBefore(before: number): Promise<number> {
    const old = this.db
      .selectFrom('alerts')
      .select('id')
      .where('status', '=', 'resolved')
      .where('resolvedAt', '<', before);
    await this.db.deleteFrom('alertEvents').where('alertId', 'in', old).execute();
    const r = await this.db
      .deleteFrom('alerts')
      .where('status', '=', 'resolved')
      .where('resolvedAt', '<', before)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
