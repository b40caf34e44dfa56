/**
 * mysql2 instrumentation: times every `query` and `execute` of a connection, a pool (its current and
 * future connections) or their promise wrappers, labelled by database name and operation.
 */
import type { QueryDone, QueryTimer } from './query-timer.js';

const kDone = Symbol.for('prodmon.instrumented');

type Fn = (...args: unknown[]) => unknown;
interface ConnLike {
  query: Fn;
  execute?: Fn;
  config?: { database?: string };
  [kDone]?: boolean;
}
interface PoolLike {
  on(event: 'connection', fn: (conn: ConnLike) => void): unknown;
  config?: { connectionConfig?: { database?: string } };
  _allConnections?: { toArray(): ConnLike[] };
  getConnection: Fn;
  [kDone]?: boolean;
}

/** Times a mysql2 command (Query/Execute) without changing how its results and errors are delivered. */
function watchCommand(cmd: unknown, done: QueryDone): void {
  const c = cmd as { emit?: Fn; onResult?: Fn } | null;
  if (!c || typeof c.emit !== 'function') {
    done(false);
    return;
  }
  let failed = false;
  const onResult = c.onResult;
  if (typeof onResult === 'function') {
    c.onResult = function (this: unknown, err: unknown, ...rest: unknown[]) {
      if (err) failed = true;
      return onResult.call(this, err, ...rest);
    };
  }
  const emit = c.emit;
  c.emit = function (this: unknown, event: unknown, ...args: unknown[]) {
    if (event === 'error') failed = true;
    else if (event === 'end') done(failed);
    return emit.call(this, event, ...args);
  };
}

function instrumentConnection(timer: QueryTimer, conn: ConnLike, name?: string): void {
  if (conn[kDone]) return;
  conn[kDone] = true;
  const db = () => name ?? conn.config?.database ?? 'mysql';
  for (const method of ['query', 'execute'] as const) {
    const original = conn[method];
    if (typeof original !== 'function') continue;
    conn[method] = function (this: ConnLike, ...args: unknown[]) {
      const first = args[0] as { sql?: unknown } | string | undefined;
      const done = timer.startSql(db(), typeof first === 'string' ? first : first?.sql);
      let cmd: unknown;
      try {
        cmd = original.apply(this, args);
      } catch (err) {
        done(true);
        throw err;
      }
      watchCommand(cmd, done);
      return cmd;
    };
  }
}

function isPool(x: unknown): x is PoolLike {
  return typeof (x as PoolLike).getConnection === 'function' && typeof (x as PoolLike).on === 'function';
}

/**
 * Instruments a mysql2 connection or pool (callback or `mysql2/promise` API); returns it. `name`
 * overrides the database label (default: the connection's database).
 */
export function instrumentMysql<T>(timer: QueryTimer, target: T, opts: { name?: string } = {}): T {
  // mysql2/promise wrappers hold the callback-API object underneath.
  const t = target as { pool?: unknown; connection?: unknown };
  const inner = (t.pool && isPool(t.pool) ? t.pool : t.connection) ?? target;
  if (isPool(inner)) {
    if (inner[kDone]) return target;
    inner[kDone] = true;
    for (const c of inner._allConnections?.toArray() ?? []) instrumentConnection(timer, c, opts.name);
    inner.on('connection', (c) => instrumentConnection(timer, c, opts.name));
    return target;
  }
  const conn = inner as ConnLike;
  if (typeof conn?.query !== 'function')
    throw new TypeError('instrumentMysql expects a mysql2 connection or pool');
  instrumentConnection(timer, conn, opts.name);
  return target;
}
