/** Per-minute (and hourly) rollups: one row per (metric, labels, instance, resolution, bucket). */
import { CompiledQuery, type Kysely, SqliteAdapter, sql } from 'kysely';
import { Slicer } from '../../core/slice.js';
import type { RollupQuery, RollupRow } from '../../domain/rollup.js';
import type { RollupRepository } from '../../metrics/repository.js';
import type { Database } from '../schema.js';

/** Buckets of one read that `RollupRepo.pages` reads one by one (beyond, it reads the range in order). */
const MAX_BUCKET_STEPS = 2000;

/** Rows per upsert statement. */
const UPSERT_BATCH = 200;
/** The key of a rollup, and the values an upsert replaces. */
const UPSERT_KEY = ['metric', 'labels', 'instance', 'resolution', 'bucket'] as const;
const UPSERT_VALUES = [
  'count',
  'sum',
  'min',
  'max',
  'errors',
  'sketch',
] as const satisfies readonly (keyof RollupRow)[];
const UPSERT_COLUMNS = [...UPSERT_KEY, ...UPSERT_VALUES] as const;

/** The first bucket at or after `from` (and before `q.until`) holding a row of `metric`, or null. */
async function nextBucket(
  db: Kysely<Database>,
  q: RollupQuery,
  metric: string,
  from: number,
): Promise<number | null> {
  if (from >= q.until) return null;
  let sel = db
    .withoutPlugins()
    .selectFrom('rollups')
    .select((eb) => eb.fn.min<number | string>('bucket').as('next'))
    .where('resolution', '=', q.resolution)
    .where('bucket', '>=', from)
    .where('bucket', '<', q.until)
    .where('metric', '=', metric);
  if (q.instance) sel = sel.where('instance', '=', q.instance);
  const row = await sel.executeTakeFirst();
  return row?.next == null ? null : Number(row.next);
}

export class RollupRepo implements RollupRepository {
  /** Upsert statements by number of rows. */
  readonly #upserts = new Map<number, string>();

  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Writes rows, replacing any row with the same key: the recorder always writes the whole bucket
   * it holds so far, so a repeated flush of a minute is idempotent. The statement's text is built once
   * per batch size (not by the query builder for every batch): a hub writes thousands of rows a second,
   * and building each batch's query node by node cost more than SQLite's work.
   */
  async upsert(rows: readonly RollupRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += UPSERT_BATCH) {
      const n = Math.min(UPSERT_BATCH, rows.length - i);
      const params: unknown[] = new Array(n * UPSERT_COLUMNS.length);
      let p = 0;
      for (let j = i; j < i + n; j++) {
        const r = rows[j]!;
        params[p++] = r.metric;
        params[p++] = r.labels;
        params[p++] = r.instance;
        params[p++] = r.resolution;
        params[p++] = r.bucket;
        params[p++] = r.count;
        params[p++] = r.sum;
        params[p++] = r.min;
        params[p++] = r.max;
        params[p++] = r.errors;
        params[p++] = r.sketch;
      }
      await this.db.executeQuery(CompiledQuery.raw(this.#upsertSql(n), params));
    }
  }

  /** The upsert of `n` rows in this database's placeholders (built once per `n`). */
  #upsertSql(n: number): string {
    let text = this.#upserts.get(n);
    if (text !== undefined) return text;
    const sqlite = this.db.getExecutor().adapter instanceof SqliteAdapter;
    const k = UPSERT_COLUMNS.length;
    const tuples: string[] = [];
    for (let j = 0; j < n; j++) {
      const marks = UPSERT_COLUMNS.map((_c, c) => (sqlite ? '?' : `$${j * k + c + 1}`));
      tuples.push(`(${marks.join(', ')})`);
    }
    const q = (c: string) => `"${c}"`;
    text =
      `insert into "rollups" (${UPSERT_COLUMNS.map(q).join(', ')}) values ${tuples.join(', ')} ` +
      `on conflict (${UPSERT_KEY.map(q).join(', ')}) do update set ` +
      UPSERT_VALUES.map((c) => `${q(c)} = excluded.${q(c)}`).join(', ');
    this.#upserts.set(n, text);
    return text;
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

  /**
   * The rows of a query in pages of at most `pageSize` rows, metric by metric and (for up to
   * `MAX_BUCKET_STEPS` buckets of the resolution) bucket by bucket, for reads that must not hold the
   * event loop: SQLite answers synchronously (a whole minute of a hub's rows in one statement would hold
   * the loop until every row is read), so
   * each page is one statement (keyset on the rowid, in the order of the time index); PostgreSQL
   * answers asynchronously, one query per bucket and metric. An empty bucket is followed by one query
   * for the next bucket with rows, so empty stretches cost one query each. Only a page is in memory at a
   * time; callers yield between pages, and `slicer` yields between queries.
   */
  async *pages(
    q: RollupQuery & { metrics: readonly string[] },
    pageSize = 256,
    slicer = new Slicer(),
  ): AsyncGenerator<RollupRow[]> {
    const sqlite = this.db.getExecutor().adapter instanceof SqliteAdapter;
    const first = Math.ceil(q.since / q.resolution) * q.resolution;
    const steps = q.until > first ? Math.ceil((q.until - first) / q.resolution) : 0;
    for (const metric of q.metrics) {
      if (steps > MAX_BUCKET_STEPS) {
        yield* this.#rangePages(q, metric, pageSize, sqlite);
        continue;
      }
      for (let bucket: number | null = first; bucket !== null && bucket < q.until; ) {
        let sel = this.db
          .withoutPlugins()
          .selectFrom('rollups')
          .where('resolution', '=', q.resolution)
          .where('bucket', '=', bucket)
          .where('metric', '=', metric);
        if (q.instance) sel = sel.where('instance', '=', q.instance);
        // Most of the bucket-and-metric queries of a long read find nothing: they take turns too.
        await slicer.pause();
        let found = 0;
        if (!sqlite) {
          const rows = await sel.selectAll().execute();
          found = rows.length;
          for (let i = 0; i < rows.length; i += pageSize) yield rows.slice(i, i + pageSize);
        } else {
          let after = Number.MIN_SAFE_INTEGER;
          for (;;) {
            const rows = await sel
              .selectAll()
              .select(sql<number>`rowid`.as('_rowid'))
              .where(sql.ref('rowid'), '>', after)
              .orderBy(sql.ref('rowid'))
              .limit(pageSize)
              .execute();
            if (rows.length === 0) break;
            found += rows.length;
            after = rows[rows.length - 1]!._rowid;
            yield rows; // (with their `_rowid`, left on: deleting a property slows every later read of the row)
            if (rows.length < pageSize) break;
          }
        }
        // After an empty bucket, one query finds the next bucket that has rows of this metric: a
        // day of minutes on a quiet monitor is then two queries per metric, not 1,440.
        bucket =
          found > 0 ? bucket + q.resolution : await nextBucket(this.db, q, metric, bucket + q.resolution);
      }
    }
  }

  /** A long range of one metric in pages: keyset on (bucket, rowid) along the time index (SQLite). */
  async *#rangePages(
    q: RollupQuery,
    metric: string,
    pageSize: number,
    sqlite: boolean,
  ): AsyncGenerator<RollupRow[]> {
    if (!sqlite) {
      const rows = await this.query({ ...q, metrics: [metric] });
      for (let i = 0; i < rows.length; i += pageSize) yield rows.slice(i, i + pageSize);
      return;
    }
    let bucket = q.since;
    let after = Number.MIN_SAFE_INTEGER;
    for (;;) {
      let sel = this.db
        .withoutPlugins()
        .selectFrom('rollups')
        .selectAll()
        .select(sql<number>`rowid`.as('_rowid'))
        .where('resolution', '=', q.resolution)
        .where('bucket', '>=', bucket)
        .where('bucket', '<', q.until)
        .where('metric', '=', metric)
        .where((eb) => eb.or([eb('bucket', '>', bucket), eb(sql.ref('rowid'), '>', after)]));
      if (q.instance) sel = sel.where('instance', '=', q.instance);
      const rows = await sel
        .orderBy('bucket')
        .orderBy('metric')
        .orderBy(sql.ref('rowid'))
        .limit(pageSize)
        .execute();
      if (rows.length === 0) return;
      const last = rows[rows.length - 1]!;
      bucket = Number(last.bucket);
      after = last._rowid;
      yield rows; // (with their `_rowid`, left on: deleting a property slows every later read of the row)
      if (rows.length < pageSize) return;
    }
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
