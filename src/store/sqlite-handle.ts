/**
 * The SQLite connection as Kysely sees it: a thin layer over a better-sqlite3 database that (1) tells a
 * listener at once when any statement fails with a corruption or I/O error, and (2) can be pointed at
 * another open database between statements (after the file was restored or salvaged), so every
 * repository keeps working without being rebuilt.
 */
import { statSync } from 'node:fs';
import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** What a failed SQLite call says about the file. */
/** Writing statements kept prepared (see `SqliteHandle.prepare`). */
const KEPT_STATEMENTS = 64;

export type SqliteFaultKind = 'corrupt' | 'io';

/**
 * The kind of an SQLite error: `corrupt` (SQLITE_CORRUPT*, SQLITE_NOTADB: the file's pages are not a
 * database), `io` (SQLITE_IOERR*, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_READONLY_DBMOVED: the file cannot
 * be read or written), or null (busy, constraint, a bad statement: not the file's fault).
 */
export function sqliteFaultOf(err: unknown): SqliteFaultKind | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return 'corrupt';
  if (
    code.startsWith('SQLITE_IOERR') ||
    code === 'SQLITE_FULL' ||
    code.startsWith('SQLITE_CANTOPEN') ||
    code === 'SQLITE_READONLY_DBMOVED'
  )
    return 'io';
  return null;
}

/** The file a path names: device and inode (null when there is no file). */
export interface FileIdentity {
  dev: number;
  ino: number;
}

/** The identity of the file at `path` now; null when it does not exist. Other errors throw. */
export function fileIdentity(path: string): FileIdentity | null {
  try {
    const s = statSync(path);
    return { dev: s.dev, ino: s.ino };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** A better-sqlite3 database behind Kysely's `SqliteDatabase` interface; see the module comment. */
export class SqliteHandle implements SqliteDatabase {
  #raw: BetterSqlite3.Database;
  /**
   * Prepared writing statements by their SQL, least recently used first: Kysely's driver prepares
   * each query it runs, and SQLite compiling the same insert of a rollup batch again for every push
   * was a measurable part of a hub's CPU.
   */
  readonly #writes = new Map<string, BetterSqlite3.Statement>();
  #opened: FileIdentity | null;
  readonly #onFault: (kind: SqliteFaultKind, err: unknown) => void;

  /** `onFault` is called synchronously, before the error reaches the caller; it must not throw. */
  constructor(
    raw: BetterSqlite3.Database,
    readonly path: string,
    onFault: (kind: SqliteFaultKind, err: unknown) => void,
  ) {
    this.#raw = raw;
    this.#opened = path === ':memory:' ? null : fileIdentity(path);
    this.#onFault = onFault;
  }

  /** The database statements run on now. */
  get raw(): BetterSqlite3.Database {
    return this.#raw;
  }

  /** Device and inode of the file when it was opened (null in memory). */
  get opened(): FileIdentity | null {
    return this.#opened;
  }

  /**
   * Runs the next statements on `raw` (a database opened at `path`), whose file identity is taken now.
   * The caller holds Kysely's connection, so no statement or transaction is in progress.
   */
  swap(raw: BetterSqlite3.Database): BetterSqlite3.Database {
    const old = this.#raw;
    this.#raw = raw;
    this.#writes.clear();
    this.#opened = fileIdentity(this.path);
    return old;
  }

  prepare(sql: string): SqliteStatement {
    let kept = this.#writes.get(sql);
    if (kept) {
      this.#writes.delete(sql); // most recently used last
      this.#writes.set(sql, kept);
    } else {
      const prepared = this.#guard(() => this.#raw.prepare(sql));
      kept = prepared;
      // Statements that return no rows are kept for their next run (a reader cannot be: two
      // iterations of one statement cannot overlap).
      if (!prepared.reader) {
        this.#writes.set(sql, prepared);
        if (this.#writes.size > KEPT_STATEMENTS) this.#writes.delete(this.#writes.keys().next().value!);
      }
    }
    const stmt = kept;
    return {
      reader: stmt.reader,
      all: (params) => this.#guard(() => stmt.all(params as unknown[])),
      run: (params) => this.#guard(() => stmt.run(params as unknown[])),
      iterate: (params) => this.#iterate(stmt.iterate(params as unknown[])),
    };
  }

  close(): void {
    this.#writes.clear();
    this.#raw.close();
  }

  *#iterate(it: IterableIterator<unknown>): IterableIterator<unknown> {
    for (;;) {
      const next = this.#guard(() => it.next());
      if (next.done) return;
      yield next.value;
    }
  }

  #guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      const kind = sqliteFaultOf(err);
      if (kind) this.#onFault(kind, err);
      throw err;
    }
  }
}
