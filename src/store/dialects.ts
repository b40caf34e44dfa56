/** Opening the two databases behind one Kysely code path. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { CamelCasePlugin, Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type pg from 'pg';
import { pgModule } from '../core/lazy.js';
import { retryingPool } from './pg-retry.js';
import type { Database } from './schema.js';
import { type SqliteFaultKind, SqliteHandle } from './sqlite-handle.js';

/**
 * An SQLite file in WAL mode, waiting up to 5 s for another writer, with a 512 KiB page cache:
 * better-sqlite3 builds SQLite with a 16 MB default, which an embedded monitor's flushes would fill, in
 * the memory of the user's process; the OS page cache keeps the file's hot pages anyway.
 */
export function openRawSqlite(path: string): BetterSqlite3.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const raw = new BetterSqlite3(path);
  raw.pragma('journal_mode = WAL');
  raw.pragma('busy_timeout = 5000');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('cache_size = -512');
  return raw;
}

/**
 * The store's SQLite database (see {@link openRawSqlite}) behind a {@link SqliteHandle}: `onFault` hears
 * of every corruption or I/O error at once, and the file can be restored or salvaged while running.
 */
export function openSqlite(
  path: string,
  onFault: (kind: SqliteFaultKind, err: unknown) => void = () => {},
): { db: Kysely<Database>; handle: SqliteHandle } {
  const handle = new SqliteHandle(openRawSqlite(path), path, onFault);
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: handle }),
    plugins: [new CamelCasePlugin()],
  });
  return { db, handle };
}

// pg returns int8 and numeric as strings; prodmon's are ms timestamps and counts, safe as numbers.
const pgTypes = {
  getTypeParser(oid: number, format?: string) {
    if (oid === 20 || oid === 1700) return (v: string) => (v === null ? null : Number(v));
    // biome-ignore lint/suspicious/noExplicitAny: pg's typed overloads
    return (pgModule().types.getTypeParser as any)(oid, format);
  },
};

/**
 * A PostgreSQL pool whose sessions use `schema` first; `onDrop` hears of every pooled connection that
 * ends with an error (the server went away, `pg_terminate_backend`), idle or in use.
 */
export function openPostgres(
  url: string,
  schema: string,
  poolSize: number,
  onDrop: (err: Error) => void = () => {},
): { db: Kysely<Database>; pool: pg.Pool } {
  const pool = new (pgModule().Pool)({
    connectionString: url,
    max: poolSize,
    options: `-c search_path="${schema}"`,
    connectionTimeoutMillis: 5000,
    types: pgTypes,
    application_name: 'prodmon',
  });
  // A dropped idle connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  // pg-pool drops its error listener while a client is checked out: a session ended by the server mid
  // transaction (pg_terminate_backend, an idle-in-transaction timeout) must not crash the process.
  pool.on('connect', (client) => client.on('error', (err) => onDrop(err)));
  const db = new Kysely<Database>({
    // A statement on a connection whose session the server ended is sent again on another (pg-retry.ts).
    dialect: new PostgresDialect({ pool: retryingPool(pool, poolSize) }),
    plugins: [new CamelCasePlugin()],
  });
  return { db, pool };
}
