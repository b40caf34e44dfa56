/** Rollups: the figures of one bucket (a minute or an hour) of one series, as kept and read. */

/**
 * The figures of one bucket of one series as it is kept and sent (a row of the store, an entry of a
 * read, a row on the push wire), its sketch and its labels aside: those differ in form between them.
 */
export interface BucketFigures {
  /** Width of the bucket in ms (a minute or an hour). */
  resolution: number;
  /** Start of the bucket (ms since the epoch, a multiple of `resolution`). */
  bucket: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  errors: number;
}

/** A rollup as stored: a bucket's figures and its series; `labels` is canonical JSON. */
export interface RollupRow extends BucketFigures {
  metric: string;
  /** Canonical JSON of the labels (sorted keys). */
  labels: string;
  instance: string;
  /** Serialized DDSketch (protobuf), null for counters without a distribution. */
  sketch: Buffer | null;
}

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
