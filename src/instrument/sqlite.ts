/**
 * better-sqlite3 instrumentation: times every statement run through `prepare(...).run/get/all/iterate`
 * and `exec`, labelled by database file name and operation (read once, when the statement is prepared).
 */
import { basename } from 'node:path';
import type { QueryTimer } from './query-timer.js';
import { sqlOperation } from './sql.js';

const kDone = Symbol.for('prodmon.instrumented');

type Fn = (...args: unknown[]) => unknown;
interface DbLike {
  prepare: Fn;
  exec: Fn;
  name?: string;
  [kDone]?: boolean;
}
type StatementLike = Record<string, unknown>;

function timeSync(timer: QueryTimer, db: string, op: string, fn: () => unknown): unknown {
  const done = timer.start(db, op);
  try {
    const out = fn();
    done(false);
    return out;
  } catch (err) {
    done(true);
    throw err;
  }
}

function* timedIterator(
  timer: QueryTimer,
  db: string,
  op: string,
  it: Iterator<unknown>,
): Generator<unknown> {
  const done = timer.start(db, op);
  let failed = false;
  try {
    for (;;) {
      const r = it.next();
      if (r.done) return r.value;
      yield r.value;
    }
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    it.return?.();
    done(failed);
  }
}

/** Instruments a better-sqlite3 `Database`; returns it. `name` overrides the label (default: the file name). */
export function instrumentSqlite<T>(timer: QueryTimer, target: T, opts: { name?: string } = {}): T {
  const db = target as unknown as DbLike;
  if (typeof db?.prepare !== 'function' || typeof db.exec !== 'function') {
    throw new TypeError('instrumentSqlite expects a better-sqlite3 Database');
  }
  if (db[kDone]) return target;
  db[kDone] = true;
  const label = opts.name ?? (db.name ? basename(db.name) : 'sqlite');
  const prepare = db.prepare;
  const exec = db.exec;
  db.prepare = function (this: DbLike, ...args: unknown[]) {
    const stmt = prepare.apply(this, args) as StatementLike;
    const op = sqlOperation(args[0]);
    for (const m of ['run', 'get', 'all'] as const) {
      const fn = stmt[m] as Fn;
      stmt[m] = function (this: unknown, ...a: unknown[]) {
        return timeSync(timer, label, op, () => fn.apply(this, a));
      };
    }
    const iterate = stmt.iterate as Fn;
    stmt.iterate = function (this: unknown, ...a: unknown[]) {
      return timedIterator(timer, label, op, iterate.apply(this, a) as Iterator<unknown>);
    };
    return stmt;
  };
  db.exec = function (this: DbLike, ...args: unknown[]) {
    return timeSync(timer, label, sqlOperation(args[0]), () => exec.apply(this, args));
  };
  return target;
}
