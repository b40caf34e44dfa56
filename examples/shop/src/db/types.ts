/** The shop's storage contract: one small async query surface over SQLite and PostgreSQL. */

/** Which SQL engine is underneath. */
export type Dialect = 'sqlite' | 'postgres';

/** A SQL parameter value. */
export type SqlValue = string | number | bigint | null;

/** Something queries run on: the database, or an open transaction. SQL uses `?` placeholders. */
export interface Queryable {
  /** Every row of a query. */
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** The first row of a query, or undefined. */
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** A statement that changes rows; resolves with how many it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
}

/** Hooks of a database: injected latency (the demo's slow-db fault) and timing of waits. */
export interface DbHooks {
  /** Extra latency to add before each statement right now, in ms (0: none). */
  delayMs?: () => number;
  /**
   * Times a wait for the database that is not a statement of the driver: SQLite waiting for its one
   * connection while a transaction holds it, or an injected delay.
   */
  timeWait?: <T>(fn: () => Promise<T>) => Promise<T>;
}

/** A shop database. */
export interface ShopDb extends Queryable {
  readonly dialect: Dialect;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs several `;`-separated statements (schema). */
  exec(sql: string): Promise<void>;
  /** Where the data lives, without credentials (for logs and health details). */
  readonly target: string;
  close(): Promise<void>;
}
