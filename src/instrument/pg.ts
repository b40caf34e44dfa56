/**
 * node-postgres instrumentation: times every query of a `pg.Client`, or of every client of a `pg.Pool`
 * (pool.query and pool.connect() clients alike), labelled by database name and operation.
 */
import type { QueryDone, QueryTimer } from './query-timer.js';

const kDone = Symbol.for('prodmon.instrumented');

type Fn = (...args: unknown[]) => unknown;
interface PgClientLike {
  query: Fn;
  database?: string;
  connectionParameters?: { database?: string };
  [kDone]?: boolean;
}
interface PgPoolLike {
  on(event: 'connect', fn: (client: PgClientLike) => void): unknown;
  options?: { database?: string; connectionString?: string };
  _clients?: PgClientLike[];
  [kDone]?: boolean;
}

function isPool(x: unknown): x is PgPoolLike {
  return typeof (x as PgPoolLike).on === 'function' && Array.isArray((x as PgPoolLike)._clients);
}

function databaseOf(client: PgClientLike): string {
  return client.database ?? client.connectionParameters?.database ?? 'postgres';
}

/** Wraps `fn` so that `done` runs first with whether it got an error. */
function wrapCallback(fn: Fn, done: QueryDone): Fn {
  return function (this: unknown, err: unknown, ...rest: unknown[]) {
    done(Boolean(err));
    return fn.call(this, err, ...rest);
  };
}

/** Times the events of a submittable (cursor, stream) without changing how they are handled. */
function watchEmitter(emitter: { emit: Fn }, done: QueryDone): void {
  const emit = emitter.emit;
  emitter.emit = function (this: unknown, event: unknown, ...args: unknown[]) {
    if (event === 'end') done(false);
    else if (event === 'error') done(true);
    return emit.call(this, event, ...args);
  };
}

function instrumentClient(timer: QueryTimer, client: PgClientLike, name?: string): void {
  if (client[kDone]) return;
  client[kDone] = true;
  const original = client.query;
  client.query = function (this: PgClientLike, config: unknown, values?: unknown, callback?: unknown) {
    const c = config as { text?: unknown; submit?: unknown; callback?: unknown } | string | null | undefined;
    const text = typeof c === 'string' ? c : c?.text;
    const done = timer.startSql(name ?? databaseOf(this), text);
    try {
      if (c && typeof c === 'object' && typeof c.submit === 'function') {
        watchEmitter(c as unknown as { emit: Fn }, done);
        return original.call(this, config, values, callback);
      }
      if (typeof values === 'function') return original.call(this, config, wrapCallback(values as Fn, done));
      if (typeof callback === 'function')
        return original.call(this, config, values, wrapCallback(callback as Fn, done));
      if (c && typeof c === 'object' && typeof c.callback === 'function') {
        return original.call(this, { ...c, callback: wrapCallback(c.callback as Fn, done) }, values);
      }
      const result = original.call(this, config, values) as Promise<unknown>;
      return result.then(
        (v) => {
          done(false);
          return v;
        },
        (err: unknown) => {
          done(true);
          throw err;
        },
      );
    } catch (err) {
      done(true);
      throw err;
    }
  };
}

/**
 * Instruments a `pg.Pool` (its current and future clients) or a `pg.Client`; returns it. `name`
 * overrides the database label (default: the database the client connects to).
 */
export function instrumentPg<T>(timer: QueryTimer, target: T, opts: { name?: string } = {}): T {
  if (isPool(target)) {
    if (target[kDone]) return target;
    target[kDone] = true;
    for (const c of target._clients ?? []) instrumentClient(timer, c, opts.name);
    target.on('connect', (c) => instrumentClient(timer, c, opts.name));
    return target;
  }
  const client = target as unknown as PgClientLike;
  if (typeof client?.query !== 'function')
    throw new TypeError('instrumentPg expects a pg.Pool or a pg.Client');
  instrumentClient(timer, client, opts.name);
  return target;
}
