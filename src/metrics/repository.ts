/** What metrics need from the store: the rollups. */
import type { Slicer } from '../core/slice.js';
import type { RollupQuery, RollupRow } from '../domain/rollup.js';

/** Per-minute (and hourly) rollups: one row per (metric, labels, instance, resolution, bucket). */
export interface RollupRepository {
  /**
   * Writes rows, replacing any row with the same key: the recorder always writes the whole bucket
   * it holds so far, so a repeated flush of a minute is idempotent.
   */
  upsert(rows: readonly RollupRow[]): Promise<void>;
  /**
   * Rows in a time range, oldest first. The rollup columns are one word each, so the camel-case plugin
   * is left out: it would copy every row, and a week of rollups is tens of thousands of rows.
   */
  query(q: RollupQuery): Promise<RollupRow[]>;
  /**
   * The rows of a query in pages of at most `pageSize` rows, metric by metric and (for up to
   * `MAX_BUCKET_STEPS` buckets of the resolution) bucket by bucket, for reads that must not hold the
   * event loop: SQLite answers synchronously (a whole minute of a hub's rows in one statement would hold
   * the loop until every row is read), so
   * each page is one statement (keyset on the rowid, in the order of the time index); PostgreSQL
   * answers asynchronously, one query per bucket and metric. Only a page is in memory at a time;
   * callers yield between pages, and `slicer` yields between queries.
   */
  pages(
    q: RollupQuery & {
      metrics: readonly string[];
    },
    pageSize?: number,
    slicer?: Slicer,
  ): AsyncGenerator<RollupRow[]>;
  /** The row of one key, or null. */
  get(
    key: Pick<RollupRow, 'metric' | 'labels' | 'instance' | 'resolution' | 'bucket'>,
  ): Promise<RollupRow | null>;
  /** How many rows of a resolution are older than `before` (what `deleteBefore` would remove). */
  countBefore(resolution: number, before: number): Promise<number>;
  /**
   * Total `count` of the rows of a resolution per hour, for bucket starts in [since, until): how
   * compaction finds hours whose minute rows changed after their hourly rows were written.
   */
  countsByHour(resolution: number, since: number, until: number): Promise<Map<number, number>>;
  /** Start of the oldest bucket of a resolution, or null when there is none. */
  oldestBucket(resolution: number): Promise<number | null>;
  /** Deletes rows of a resolution older than `before`; returns how many. */
  deleteBefore(resolution: number, before: number): Promise<number>;
}
