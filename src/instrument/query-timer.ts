/** Times database calls into the `db_query_duration_ms` metric, labelled by database and operation. */
import { performance } from 'node:perf_hooks';
import { METRIC } from '../metrics/names.js';
import type { Recorder } from '../metrics/recorder.js';
import type { Series } from '../metrics/series.js';
import { type SqlOperation, sqlOperation } from './sql.js';

/** Ends a timing; `failed` counts the call as an error. */
export type QueryDone = (failed: boolean) => void;

/** Labels of a generic timed call. */
export interface QueryLabels {
  db: string;
  operation?: SqlOperation | string;
}

/** Records query timings. */
export class QueryTimer {
  readonly #recorder: Recorder;
  readonly #now: () => number;
  readonly #cache = new Map<string, Series>();
  /** Wall time minus the timer's clock, when the recorder runs on the system clock (see RequestTracker). */
  wallOffset: number | undefined = undefined;

  constructor(recorder: Recorder, now: () => number = () => performance.now()) {
    this.#recorder = recorder;
    this.#now = now;
  }

  /** Starts timing a query on `db` of operation `op`; call the result once when it ends. */
  start(db: string, op: string): QueryDone {
    const t0 = this.#now();
    let ended = false;
    return (failed) => {
      if (ended) return;
      ended = true;
      const end = this.#now();
      this.#record(db, op, end - t0, failed, end);
    };
  }

  /** Starts timing a SQL statement (its operation is read from the text, the text itself is not kept). */
  startSql(db: string, sql: unknown): QueryDone {
    return this.start(db, sqlOperation(sql));
  }

  /**
   * Times any async (or sync) call: `timeQuery('orders', () => mongo.find(...))`, or with labels
   * `timeQuery({ db: 'redis', operation: 'select' }, fn)`. Rejections count as errors and pass through.
   */
  time<T>(name: string | QueryLabels, fn: () => T): T {
    const labels = typeof name === 'string' ? { db: name } : name;
    const done = this.start(labels.db, labels.operation ?? 'other');
    let out: T;
    try {
      out = fn();
    } catch (err) {
      done(true);
      throw err;
    }
    if (out && typeof (out as { then?: unknown }).then === 'function') {
      return (out as unknown as Promise<unknown>).then(
        (v) => {
          done(false);
          return v;
        },
        (err: unknown) => {
          done(true);
          throw err;
        },
      ) as T;
    }
    done(false);
    return out;
  }

  #record(db: string, op: string, ms: number, failed: boolean, end: number): void {
    const key = `${db}\u0001${op}`;
    let s = this.#cache.get(key);
    if (!s) {
      s = this.#recorder.series(METRIC.dbQuery, { db, operation: op });
      if (!s.overflow) this.#cache.set(key, s);
    }
    const off = this.wallOffset;
    this.#recorder.observe(s, ms, failed, off === undefined ? undefined : end + off);
  }
}
