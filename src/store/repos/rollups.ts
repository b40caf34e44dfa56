/** Per-minute (and hourly) rollups: one row per (metric, labels, instance, resolution, bucket). */
import { type Kysely, sql } from 'kysely';
import type { Database, RollupTable } from '../schema.js';

/** A rollup as stored; `labels` is canonical JSON. */
export type RollupRow = RollupTable;

/** What to read. */
export interface RollupQuery {
  metrics?: string[];
  resolution: number;
  /** Bucket start >= since. */
  since: number;
  /** Bucket start < until. */
  until: number;
  instance?: string;
}

export class RollupRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Writes rows, replacing any row with the same key: the recorder always writes the whole bucket
   * it holds so far, so a repeated flush of a minute is idempotent.
   */
  async upsert(rows: readonly RollupRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 200) {
      const chunk = rows.slice(i, i + 200);
      await this.db
        .insertInto('rollups')
        .values(chunk)
        .onConflict((oc) =>
          oc.columns(['metric', 'labels', 'instance', 'resolution', 'bucket']).doUpdateSet((eb) => ({
            count: eb.ref('excluded.count'),
            sum: eb.ref('excluded.sum'),
            min: eb.ref('excluded.min'),
            max: eb.ref('excluded.max'),
            errors: eb.ref('excluded.errors'),
            sketch: eb.ref('excluded.sketch'),
          })),
        )
        .execute();
    }
  }

  /**
   * Rows in a time range, oldest first. The rollup columns are one word each, so the camel-case plugin
   * is left out: it would copy every row, and a week of rollups is tens of thousands of rows.
   */
  async query(q: RollupQuery): Promise<RollupRow[]> {
    let sel = this.db
      .withoutPlugins()
      .selectFrom('rollups')
      .selectAll()
      .where('resolution', '=', q.resolution)
      .where('bucket', '>=', q.since)
      .where('bucket', '<', q.until);
    if (q.metrics && q.metrics.length > 0) sel = sel.where('metric', 'in', q.metrics);
    if (q.instance) sel = sel.where('instance', '=', q.instance);
    return sel.orderBy('bucket').execute();
  }

  /** The row of one key, or null. */
  async get(
    key: Pick<RollupRow, 'metric' | 'labels' | 'instance' | 'resolution' | 'bucket'>,
  ): Promise<RollupRow | null> {
    const row = await this.db
      .withoutPlugins()
      .selectFrom('rollups')
      .selectAll()
      .where('metric', '=', key.metric)
      .where('labels', '=', key.labels)
      .where('instance', '=', key.instance)
      .where('resolution', '=', key.resolution)
      .where('bucket', '=', key.bucket)
      .executeTakeFirst();
    return row ?? null;
  }

  /** How many rows of a resolution are older than `before` (what `deleteBefore` would remove). */
  async countBefore(resolution: number, before: number): Promise<number> {
    const r = await this.db
      .selectFrom('rollups')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('resolution', '=', resolution)
      .where('bucket', '<', before)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  /**
   * Total `count` of the rows of a resolution per hour, for bucket starts in [since, until): how
   * compaction finds hours whose minute rows changed after their hourly rows were written.
   */
  async countsByHour(resolution: number, since: number, until: number): Promise<Map<number, number>> {
    const hour = sql<number>`${sql.ref('bucket')} - (${sql.ref('bucket')} % ${sql.lit(3_600_000)})`;
    const rows = await this.db
      .selectFrom('rollups')
      .select([hour.as('hour'), (eb) => eb.fn.sum<number>('count').as('n')])
      .where('resolution', '=', resolution)
      .where('bucket', '>=', since)
      .where('bucket', '<', until)
      .groupBy(hour)
      .execute();
    return new Map(rows.map((r) => [Number(r.hour), Number(r.n)]));
  }

  /** Start of the oldest bucket of a resolution, or null when there is none. */
  async oldestBucket(resolution: number): Promise<number | null> {
    const r = await this.db
      .selectFrom('rollups')
      .select((eb) => eb.fn.min<number>('bucket').as('b'))
      .where('resolution', '=', resolution)
      .executeTakeFirst();
    return r?.b === null || r?.b === undefined ? null : Number(r.b);
  }

  /** Deletes rows of a resolution older than `before`; returns how many. */
  async deleteBefore(resolution: number, before: number): Promise<number> {
    const r = await this.db
      .deleteFrom('rollups')
      .where('resolution', '=', resolution)
      .where('bucket', '<', before)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
