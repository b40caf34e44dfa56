/** The shop's PostgreSQL storage (pg): a pool, `?` placeholders rewritten to `$n`, retried deadlocks. */
import pg from 'pg';
import type { DbHooks, Queryable, ShopDb, SqlValue } from './types.js';

/** How to reach PostgreSQL. */
export interface PostgresOptions extends Pick<DbHooks, 'delayMs'> {
  url: string;
  /** Schema holding the shop's tables (created if missing); default `public`. */
  schema?: string;
  /** Pool size (default 10). */
  max?: number;
  /** Lets the caller instrument the pool before it is used; returns the pool to use. */
  wrap?: (pool: pg.Pool) => pg.Pool | undefined;
  /** Receives pool errors of idle clients (a restarted server); default: ignored. */
  onError?: (err: Error) => void;
}

const SCHEMA_RE = /^[a-z_][a-z0-9_]*$/;
/** Serialization failure and deadlock: the transaction may simply be run again. */
const RETRYABLE = new Set(['40001', '40P01']);

/** `?` placeholders to `$1..$n` (the shop's SQL has no `?` inside literals). */
export function toDollarParams(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}

/** Opens a pool (connections are made on first use) and makes sure the schema exists. */
export async function openPostgres(opts: PostgresOptions): Promise<ShopDb> {
  const schema = opts.schema ?? 'public';
  if (!SCHEMA_RE.test(schema)) throw new Error(`invalid schema name "${schema}"`);
  const created = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    options: `-c search_path=${schema}`,
  });
  created.on('error', (err) => opts.onError?.(err));
  const pool = opts.wrap?.(created) ?? created;
  const db = new PostgresDb(pool, redactUrl(opts.url), opts.delayMs ?? (() => 0));
  if (schema !== 'public') await db.exec(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  return db;
}

type Client = Pick<pg.PoolClient, 'query'>;

class PostgresDb implements ShopDb {
  readonly dialect = 'postgres' as const;
  readonly target: string;
  readonly #pool: pg.Pool;
  readonly #delayMs: () => number;
  readonly #sql = new Map<string, string>();

  constructor(pool: pg.Pool, target: string, delayMs: () => number) {
    this.#pool = pool;
    this.target = target;
    this.#delayMs = delayMs;
  }

  #text(sql: string): string {
    let t = this.#sql.get(sql);
    if (t === undefined) {
      t = toDollarParams(sql);
      this.#sql.set(sql, t);
    }
    return t;
  }

  #on(client: Client): Queryable {
    const q = async <T>(sql: string, params: readonly SqlValue[]) => {
      const delay = this.#delayMs();
      // The injected slowness is a real slow statement, on the same connection (inside the transaction).
      if (delay > 0) await client.query('SELECT pg_sleep($1)', [delay / 1000]);
      return (await client.query(this.#text(sql), params as unknown[])) as pg.QueryResult & { rows: T[] };
    };
    return {
      all: async <T>(sql: string, params: readonly SqlValue[] = []) => (await q<T>(sql, params)).rows,
      get: async <T>(sql: string, params: readonly SqlValue[] = []) => (await q<T>(sql, params)).rows[0],
      run: async (sql, params = []) => ({ changes: (await q(sql, params)).rowCount ?? 0 }),
    };
  }

  all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.#on(this.#pool).all<T>(sql, params);
  }

  get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return this.#on(this.#pool).get<T>(sql, params);
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    return this.#on(this.#pool).run(sql, params);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.#pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const out = await fn(this.#on(client));
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch((e: Error) => {
          broken = e; // the connection is unusable: the pool drops it
        });
        const code = (err as { code?: string }).code;
        if (attempt < 3 && code && RETRYABLE.has(code)) continue;
        throw err;
      } finally {
        client.release(broken);
      }
    }
  }

  async exec(sql: string): Promise<void> {
    await this.#pool.query(sql);
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
