/** Baselines of the deployment gate: one row each, and one row per route (and overall) with its minutes. */

import type { Kysely } from 'kysely';
import type { BaselineRepository } from '../../baseline/repository.js';
import {
  type Baseline,
  type BaselineInfo,
  type BaselineMinute,
  emptySeries,
  OVERALL_KEY,
} from '../../domain/baseline.js';
import type { BaselineSeriesTable, BaselineTable, Database } from '../schema.js';

/** Series rows per insert statement (11 parameters each). */
const SERIES_BATCH = 200;

const info = (r: BaselineTable): BaselineInfo => ({
  name: r.name,
  createdAt: Number(r.createdAt),
  createdBy: r.createdBy,
  from: Number(r.windowFrom),
  until: Number(r.windowUntil),
  instance: r.instance,
  route: r.routeFilter,
  requests: Number(r.requests),
  errors: Number(r.errors),
  routes: Number(r.routes),
});

/** Minutes as stored: `[t, count, errors, p50, p95, p99]` per minute, compact. */
type MinuteTuple = [number, number, number, number | null, number | null, number | null];

const minutesJson = (m: readonly BaselineMinute[]) =>
  JSON.stringify(m.map((x): MinuteTuple => [x.t, x.count, x.errors, x.p50, x.p95, x.p99]));

function minutesOf(json: string): BaselineMinute[] {
  try {
    const rows = JSON.parse(json) as MinuteTuple[];
    return rows.map(([t, count, errors, p50, p95, p99]) => ({ t, count, errors, p50, p95, p99 }));
  } catch {
    return [];
  }
}

export class BaselineRepo implements BaselineRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(b: Baseline): Promise<boolean> {
    const r = await this.db
      .insertInto('baselines')
      .values({
        name: b.name,
        createdAt: b.createdAt,
        createdBy: b.createdBy,
        windowFrom: b.from,
        windowUntil: b.until,
        instance: b.instance,
        routeFilter: b.route,
        requests: b.requests,
        errors: b.errors,
        routes: b.routes,
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows ?? 0) === 0) return false;
    const rows = [b.overall, ...b.series].map((s) => ({
      baseline: b.name,
      key: s.key,
      method: s.method,
      route: s.route,
      count: s.count,
      errors: s.errors,
      sum: s.sum,
      min: s.min,
      max: s.max,
      sketch: s.sketch ? Buffer.from(s.sketch) : null,
      minutes: minutesJson(s.minutes),
    }));
    for (let i = 0; i < rows.length; i += SERIES_BATCH) {
      await this.db
        .insertInto('baselineSeries')
        .values(rows.slice(i, i + SERIES_BATCH))
        .execute();
    }
    return true;
  }

  async list(limit = 500): Promise<BaselineInfo[]> {
    const rows = await this.db
      .selectFrom('baselines')
      .selectAll()
      .orderBy('createdAt', 'desc')
      .orderBy('name')
      .limit(limit)
      .execute();
    return rows.map(info);
  }

  async get(name: string): Promise<Baseline | undefined> {
    const r = await this.db.selectFrom('baselines').selectAll().where('name', '=', name).executeTakeFirst();
    if (!r) return undefined;
    const rows = await this.db
      .selectFrom('baselineSeries')
      .selectAll()
      .where('baseline', '=', name)
      .orderBy('key')
      .execute();
    const series = rows.map((s: BaselineSeriesTable) => ({
      key: s.key,
      method: s.method,
      route: s.route,
      count: Number(s.count),
      errors: Number(s.errors),
      sum: Number(s.sum),
      min: Number(s.min),
      max: Number(s.max),
      sketch: s.sketch ? new Uint8Array(s.sketch) : null,
      minutes: minutesOf(s.minutes),
    }));
    const overall = series.find((s) => s.key === OVERALL_KEY) ?? emptySeries();
    return { ...info(r), overall, series: series.filter((s) => s.key !== OVERALL_KEY) };
  }

  async delete(name: string): Promise<boolean> {
    await this.db.deleteFrom('baselineSeries').where('baseline', '=', name).execute();
    const r = await this.db.deleteFrom('baselines').where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
