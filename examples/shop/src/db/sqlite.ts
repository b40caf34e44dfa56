/** The shop's SQLite storage (better-sqlite3): one connection, transactions serialized. */
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { DbHooks, Queryable, ShopDb, SqlValue } from './types.js';

/** How to open the SQLite database. */
export interface SqliteOptions extends DbHooks {
  /** File path (`:memory:` for a throwaway database). */
  path: string;
  /** Lets the caller instrument the driver handle before any statement is prepared; returns the handle to use. */
  wrap?: (db: Database.Database) => Database.Database | undefined;
}

type Stmt = Database.Statement<unknown[], unknown>;

/** Opens (creating if needed) an SQLite shop database in WAL mode. */
export function openSqlite(opts: SqliteOptions): ShopDb {
  const opened = new Database(opts.path);
  opened.pragma('journal_mode = WAL');
  opened.pragma('synchronous = NORMAL');
  opened.pragma('foreign_keys = ON');
  opened.pragma('busy_timeout = 5000');
  const db = opts.wrap?.(opened) ?? opened;
  return new SqliteDb(db, opts.path, opts);
}

class SqliteDb implements ShopDb {
  readonly dialect = 'sqlite' as const;
  readonly target: string;
  readonly #db: Database.Database;
  readonly #hooks: DbHooks;
  readonly #stmts = new Map<string, Stmt>();
  /** Resolves when the running transaction (if any) has ended. */
  #txTail: Promise<void> = Promise.resolve();
  #inTx = false;
  /** Statements of the running transaction: no waiting for the connection. */
  readonly #inside: Queryable;
  /** Statements outside any transaction: they wait until a running one has ended (one shared connection). */
  readonly #outside: Queryable;

  constructor(db: Database.Database, path: string, hooks: DbHooks) {
    this.#db = db;
    this.target = `sqlite:${path}`;
    this.#hooks = hooks;
    const make = (outside: boolean): Queryable => {
      const exec = async <R>(fn: () => R): Promise<R> => {
        await this.#ready(outside);
        // Checked in the same tick as the statement runs: no transaction can begin in between.
        while (outside && this.#inTx) await this.#txTail;
        return fn();
      };
      return {
        all: (sql, params = []) => exec(() => this.#stmt(sql).all(...params) as never[]),
        get: (sql, params = []) => exec(() => this.#stmt(sql).get(...params) as never),
        run: (sql, params = []) => exec(() => ({ changes: this.#stmt(sql).run(...params).changes })),
      };
    };
    this.#inside = make(false);
    this.#outside = make(true);
  }

  #stmt(sql: string): Stmt {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  /** Waits for the injected delay and (outside a transaction) for the connection; only real waits are timed. */
  async #ready(outside: boolean): Promise<void> {
    const delay = this.#hooks.delayMs?.() ?? 0;
    const busy = outside && this.#inTx;
    if (delay <= 0 && !busy) return;
    const wait = async () => {
      if (delay > 0) await sleep(delay);
      if (outside) await this.#idle();
    };
    await (this.#hooks.timeWait ? this.#hooks.timeWait(wait) : wait());
  }

  /** Resolves once no transaction is running. */
  async #idle(): Promise<void> {
    while (this.#inTx) await this.#txTail;
  }

  all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.#outside.all<T>(sql, params);
  }

  get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return this.#outside.get<T>(sql, params);
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    return this.#outside.run(sql, params);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    while (this.#inTx) await this.#txTail;
    // Same tick as the check above: no other transaction can slip in between.
    this.#inTx = true;
    let release!: () => void;
    this.#txTail = new Promise<void>((r) => {
      release = r;
    });
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        const out = await fn(this.#inside);
        this.#db.exec('COMMIT');
        return out;
      } catch (err) {
        if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
        throw err;
      }
    } finally {
      this.#inTx = false;
      release();
    }
  }

  async exec(sql: string): Promise<void> {
    while (this.#inTx) await this.#txTail;
    this.#db.exec(sql);
  }

  async close(): Promise<void> {
    while (this.#inTx) await this.#txTail;
    this.#stmts.clear();
    if (this.#db.open) this.#db.close();
  }
}
