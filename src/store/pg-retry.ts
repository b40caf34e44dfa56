/**
 * The pool Kysely uses on PostgreSQL: pg's pool, except that a statement sent on a connection whose
 * session the server had already ended (`pg_terminate_backend`, a restart, an idle-session timeout) is
 * sent again on another connection instead of failing the request that happened to pick it.
 *
 * pg-pool drops an idle connection once it hears that its session ended, but the server's word arrives
 * a moment after the session is gone (later on a busy machine): a statement sent in that
 * window fails with 57P01 (admin_shutdown), "Connection terminated unexpectedly" or ECONNRESET, and after
 * a `pg_terminate_backend` of every session the pool may hold several such connections.
 *
 * Only a statement outside a transaction, or the BEGIN that opens one, is sent again: inside a
 * transaction the session's work is lost with it, so the transaction fails as it must. A statement is sent
 * again at most once per connection the pool held when it failed, and never after a connection opened
 * since then failed too (the database is down, not merely the old sessions).
 */
import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';

/** SQLSTATEs of a session the server ended (admin_shutdown, crash_shutdown, cannot_connect_now). */
const ENDED_CODES = new Set(['57P01', '57P02', '57P03']);
/** Socket errors of a connection whose peer was gone when the statement was written. */
const SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE']);
/** pg's words for a connection that closed under a statement, or that it knew dead before sending. */
const LOST_MESSAGES = [
  'Connection terminated unexpectedly',
  'Client has encountered a connection error and is not queryable',
];

/** Whether `err` says the connection's session was gone (the statement did not run to completion). */
export function isConnectionLost(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (ENDED_CODES.has(code) || SOCKET_CODES.has(code))) return true;
  return typeof message === 'string' && LOST_MESSAGES.some((m) => message.includes(m));
}

const OPENS = /^\s*(begin|start\s+transaction)\b/i;
const ENDS = /^\s*(commit|end|abort|rollback)\s*;?\s*$/i;

/** Wraps `pool` for Kysely's PostgresDialect (see the module comment). */
export function retryingPool(pool: pg.Pool, poolSize: number): PostgresPool {
  // Each connection's serial number in the order they were opened: a failure on one opened after the
  // statement first failed means the database itself is unreachable.
  const serials = new WeakMap<object, number>();
  let opened = 0;
  pool.on('connect', (client) => serials.set(client, ++opened));
  const serialOf = (client: object) => serials.get(client) ?? 0;
  const ctx: RetryContext = {
    pool,
    serialOf,
    opened: () => opened,
    maxRetries: poolSize + 1,
  };
  return {
    connect: async () => new RetryingClient(ctx, await pool.connect()),
    end: () => pool.end(),
  };
}

interface RetryContext {
  pool: pg.Pool;
  serialOf(client: object): number;
  opened(): number;
  maxRetries: number;
}

/** One checked-out connection, replaced by another when it turns out dead between transactions. */
class RetryingClient implements PostgresPoolClient {
  readonly #ctx: RetryContext;
  /** Null once it was given back and no other could be had (the statement failed; nothing to release). */
  #client: pg.PoolClient | null;
  #inTransaction = false;

  constructor(ctx: RetryContext, client: pg.PoolClient) {
    this.#ctx = ctx;
    this.#client = client;
  }

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(
    q: string | PostgresCursor<R>,
    parameters?: ReadonlyArray<unknown>,
  ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    // Cursors (streamed reads) are not sent again: part of their rows may have been handed out already.
    if (typeof q !== 'string') return this.#live().query(q as never) as unknown as PostgresCursor<R>;
    return this.#send<R>(q, parameters ?? []);
  }

  release(destroy?: boolean): void {
    this.#client?.release(destroy);
    this.#client = null;
  }

  #live(): pg.PoolClient {
    if (!this.#client) throw new Error('Connection terminated: no other connection could be had');
    return this.#client;
  }

  async #send<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
    let failedAt: number | null = null;
    for (let attempt = 0; ; attempt++) {
      const client = this.#live();
      try {
        const r = (await client.query(sql, parameters as unknown[])) as unknown as PostgresQueryResult<R>;
        if (OPENS.test(sql)) this.#inTransaction = true;
        else if (ENDS.test(sql)) this.#inTransaction = false;
        return r;
      } catch (err) {
        const endsTransaction = ENDS.test(sql);
        const retry =
          !this.#inTransaction &&
          isConnectionLost(err) &&
          attempt < this.#ctx.maxRetries &&
          (failedAt === null || this.#ctx.serialOf(client) <= failedAt);
        if (endsTransaction) this.#inTransaction = false;
        if (!retry) throw err;
        failedAt ??= this.#ctx.opened();
        client.release(err as Error); // the pool closes it instead of keeping it
        this.#client = null;
        this.#client = await this.#ctx.pool.connect();
      }
    }
  }
}
