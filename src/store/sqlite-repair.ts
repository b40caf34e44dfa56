/**
 * Putting an SQLite store back on its feet while prodmon runs, holding Kysely's only connection so no
 * statement runs meanwhile (writes wait, none is lost):
 *
 * - **restore**: the file was deleted or replaced under prodmon, which still holds the original open.
 *   The open database (WAL included) is copied to its path with SQLite's online backup; a file found in
 *   its place is first moved aside (`<path>.replaced-<time>`), never deleted.
 * - **salvage**: the file is corrupt. Every table is copied row by row into a fresh, migrated file,
 *   skipping the unreadable regions; the corrupt file is kept as `<path>.corrupt-<time>`.
 *
 * In both, the old connection is closed before any connection opens the new file at the path: SQLite
 * removes `<path>-wal` and `<path>-shm` by name when its last connection closes.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { CamelCasePlugin, Kysely, SqliteDialect } from 'kysely';
import { errorMessage } from '../core/errors.js';
import { openRawSqlite } from './dialects.js';
import { migrate } from './migrate.js';
import type { Database } from './schema.js';
import { type FileIdentity, fileIdentity, type SqliteHandle } from './sqlite-handle.js';

/** What a repair needs: the handle, exclusive use of the connection, the time. */
export interface RepairContext {
  handle: SqliteHandle;
  /** Runs `fn` holding Kysely's only connection: no statement or transaction runs meanwhile. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  now: number;
}

/** One table's salvage. */
export interface TableSalvage {
  table: string;
  /** Rows copied. */
  rows: number;
  /** Unreadable regions skipped. */
  regions: number;
  /** Upper bound of the rows lost in them (rowids skipped). */
  lostAtMost: number;
  /** Why nothing could be read (the table's root is unreadable). */
  error?: string;
}

/** What a repair did. */
export interface RepairOutcome {
  kind: 'restored' | 'salvaged';
  /** A sentence for the `self` check and the logs. */
  summary: string;
  /** Where the file found in its place (restore) or the corrupt file (salvage) was moved. */
  movedTo: string | null;
  tables?: TableSalvage[];
  durationMs: number;
}

/** `2026-01-01T12-00-00Z`: a file-name-safe UTC time. */
export function fileStamp(now: number): string {
  return new Date(now)
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
}

const SIDE_FILES = ['-wal', '-shm'] as const;

function same(a: FileIdentity | null, b: FileIdentity | null): boolean {
  return !!a && !!b && a.dev === b.dev && a.ino === b.ino;
}

/** Moves a database file and its WAL and shared-memory files (when present) to `to`. */
function moveDatabase(from: string, to: string): void {
  renameSync(from, to);
  for (const s of SIDE_FILES) if (existsSync(from + s)) renameSync(from + s, to + s);
}

function removeDatabase(path: string): void {
  for (const s of ['', ...SIDE_FILES]) rmSync(path + s, { force: true });
}

function closeQuietly(raw: BetterSqlite3.Database): void {
  try {
    raw.close(); // checkpoints its WAL into its own file first
  } catch {
    // a connection that cannot close cleanly is abandoned: its file is not used again
  }
}

/**
 * Frees the handle's path for the new file. A file of someone else's found there is moved to
 * `<path>.replaced-<time>` (its name only: the WAL beside it is the open connection's); prodmon's own
 * file is left for the new one to replace, or with `keepOwnAs` closed and moved (with its WAL) to
 * `<path>.<keepOwnAs>-<time>`. Returns where a file was moved.
 */
function clearPath(handle: SqliteHandle, stamp: string, keepOwnAs?: string): string | null {
  const there = fileIdentity(handle.path);
  if (!there) return null;
  const ours = same(there, handle.opened);
  if (ours && !keepOwnAs) return null;
  const to = `${handle.path}.${ours ? keepOwnAs : 'replaced'}-${stamp}`;
  if (ours) {
    closeQuietly(handle.raw);
    moveDatabase(handle.path, to);
  } else renameSync(handle.path, to);
  return to;
}

/**
 * Closes the old connection, moves `ready` (a closed, complete database file) to the handle's path
 * and points the handle at it. If the move fails, the handle is pointed at whichever file opens, so
 * statements keep working rather than failing on a closed connection.
 */
function switchTo(handle: SqliteHandle, ready: string): void {
  closeQuietly(handle.raw);
  try {
    renameSync(ready, handle.path);
  } finally {
    handle.swap(openRawSqlite(existsSync(ready) ? ready : handle.path));
  }
}

/**
 * Runs a repair holding the connection: `fn` gets a free file name beside the database (`<path>.<step>-<time>`)
 * and the time stamp; the outcome gets the duration.
 */
function repair(
  ctx: RepairContext,
  step: string,
  fn: (tmp: string, stamp: string) => Promise<Omit<RepairOutcome, 'durationMs'>>,
): Promise<RepairOutcome> {
  return ctx.exclusive(async () => {
    const started = performance.now();
    const stamp = fileStamp(ctx.now);
    mkdirSync(dirname(ctx.handle.path), { recursive: true });
    const tmp = `${ctx.handle.path}.${step}-${stamp}`;
    removeDatabase(tmp);
    const out = await fn(tmp, stamp);
    return { ...out, durationMs: Math.round(performance.now() - started) };
  });
}

/** The file was deleted or replaced: copies the still-open database back to its path. */
export function restoreSqlite(ctx: RepairContext): Promise<RepairOutcome> {
  const { handle } = ctx;
  const path = handle.path;
  return repair(ctx, 'restoring', async (tmp, stamp) => {
    try {
      await handle.raw.backup(tmp);
    } catch (err) {
      removeDatabase(tmp);
      throw new Error(`copying the open database to ${tmp} failed: ${errorMessage(err)}`);
    }
    const movedTo = clearPath(handle, stamp);
    switchTo(handle, tmp);
    return {
      kind: 'restored',
      summary: `restored ${path} from the open database${movedTo ? ` (the file found in its place was moved to ${movedTo})` : ''}; nothing was lost`,
      movedTo,
    };
  });
}

/** Tables in the order they are copied: what the engine needs to carry on first, history last. */
const SALVAGE_ORDER = [
  'state',
  'leases',
  'silences',
  'alerts',
  'outbox',
  'instances',
  'audit',
  'alert_events',
  'deliveries',
  'job_runs',
  'check_results',
  'rollups',
];

/** Rows read and written per step; the event loop runs between steps. */
const SALVAGE_BATCH = 1000;
/** Seeks tried to find the end of an unreadable region (doubling, then halving). */
const MAX_PROBES = 128;

const yieldLoop = () => new Promise<void>((r) => setImmediate(r));
const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

function tableNames(db: BetterSqlite3.Database): string[] {
  const names = (
    db.prepare(`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`).all() as {
      name: string;
    }[]
  ).map((r) => r.name);
  const rank = (n: string) => (SALVAGE_ORDER.includes(n) ? SALVAGE_ORDER.indexOf(n) : SALVAGE_ORDER.length);
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function columnNames(db: BetterSqlite3.Database, table: string): string[] {
  return (db.prepare(`select name from pragma_table_info(?)`).all(table) as { name: string }[]).map(
    (r) => r.name,
  );
}

/** The primary key's columns, in key order. */
function keyColumns(db: BetterSqlite3.Database, table: string): string[] {
  return (
    db.prepare(`select name from pragma_table_info(?) where pk > 0 order by pk`).all(table) as {
      name: string;
    }[]
  ).map((r) => r.name);
}

/**
 * Orders rows by their primary key: rows come in rowid order (insertion order: the rollups of one minute
 * after another), and inserting them in key order instead cut the time to fill the key's index by 3.5x.
 */
function byKey(key: string[]): (a: Record<string, unknown>, b: Record<string, unknown>) => number {
  return (a, b) => {
    for (const k of key) {
      const x = a[k] as string | number | null;
      const y = b[k] as string | number | null;
      if (x === y) continue;
      if (x === null) return -1;
      if (y === null) return 1;
      return x < y ? -1 : 1;
    }
    return 0;
  };
}

/**
 * The smallest rowid after `bad` from which the table reads again (`bad`'s successor could not be
 * read), or null when no readable row follows within the probes.
 */
function nextReadable(first: BetterSqlite3.Statement, bad: number): { from: number } | null {
  const readable = (x: number): boolean | 'end' => {
    try {
      return first.get(x) === undefined ? 'end' : true;
    } catch {
      return false;
    }
  };
  // Doubling steps until a seek no longer fails, then halving back to where the damage ends.
  let lo = bad;
  let hi = bad;
  let step = 1;
  let probes = 0;
  for (;;) {
    if (++probes > MAX_PROBES) return null;
    const x = Math.min(lo + step, Number.MAX_SAFE_INTEGER);
    if (readable(x) !== false) {
      hi = x;
      break;
    }
    if (x === Number.MAX_SAFE_INTEGER) return null;
    lo = x;
    step *= 2;
  }
  while (hi - lo > 1 && probes++ < MAX_PROBES) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (readable(mid) !== false) hi = mid;
    else lo = mid;
  }
  return readable(hi) === 'end' ? null : { from: hi };
}

/** Copies what can be read of one table from `src` into `dest` (which has the table). */
async function salvageTable(
  src: BetterSqlite3.Database,
  dest: BetterSqlite3.Database,
  table: string,
): Promise<TableSalvage> {
  const out: TableSalvage = { table, rows: 0, regions: 0, lostAtMost: 0 };
  let read: BetterSqlite3.Statement;
  let first: BetterSqlite3.Statement;
  let cols: string[];
  try {
    const have = new Set(columnNames(src, table));
    cols = columnNames(dest, table).filter((c) => have.has(c));
    const list = cols.map(quote).join(', ');
    read = src.prepare(
      `select rowid as "__rowid", ${list} from ${quote(table)} where rowid > ? order by rowid limit ${SALVAGE_BATCH}`,
    );
    first = src.prepare(`select rowid from ${quote(table)} where rowid > ? order by rowid limit 1`);
  } catch (err) {
    return { ...out, error: errorMessage(err) };
  }
  const insert = dest.prepare(
    `insert or ignore into ${quote(table)} (${cols.map(quote).join(', ')}) values (${cols.map(() => '?').join(', ')})`,
  );
  const order = byKey(keyColumns(dest, table));
  const write = dest.transaction((rows: Record<string, unknown>[]) => {
    for (const r of [...rows].sort(order)) insert.run(cols.map((c) => r[c]));
  });
  let last = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const rows: Record<string, unknown>[] = [];
    let failed = false;
    try {
      for (const r of read.iterate(last)) rows.push(r as Record<string, unknown>);
    } catch {
      failed = true;
    }
    if (rows.length > 0) {
      write(rows);
      out.rows += rows.length;
      last = Number(rows[rows.length - 1]!.__rowid);
    }
    if (failed) {
      out.regions++;
      const next = nextReadable(first, last);
      if (!next) {
        if (out.rows === 0) out.error = 'no row could be read';
        break;
      }
      out.lostAtMost += next.from - last;
      last = next.from;
    } else if (rows.length < SALVAGE_BATCH) break;
    await yieldLoop();
  }
  return out;
}

function describeSalvage(tables: TableSalvage[]): string {
  const rows = tables.reduce((n, t) => n + t.rows, 0);
  const damaged = tables
    .filter((t) => t.regions > 0 || t.error)
    .map((t) =>
      t.error && t.rows === 0
        ? `${t.table}: unreadable (${t.error})`
        : `${t.table}: ${t.regions} unreadable region(s), at most ${t.lostAtMost} row(s) lost`,
    );
  return `copied ${rows} row(s) of ${tables.length} table(s)${damaged.length ? `; ${damaged.join('; ')}` : '; every row was read'}`;
}

/** Opens a fresh database at `path` with prodmon's schema. */
async function freshDatabase(path: string, now: number): Promise<BetterSqlite3.Database> {
  const raw = openRawSqlite(path);
  const db = new Kysely<Database>({
    // Kysely's destroy() closes its database: give it one that leaves `raw` open.
    dialect: new SqliteDialect({ database: { prepare: (s) => raw.prepare(s), close: () => {} } }),
    plugins: [new CamelCasePlugin()],
  });
  try {
    await migrate(db, 'sqlite', { now });
  } finally {
    await db.destroy();
  }
  return raw;
}

/**
 * Makes the fresh file fast to fill (it is not in use, and a crash meanwhile only loses the copy): no
 * journal, no sync, a 64 MiB page cache for this connection. Its indexes stay: building one at the end
 * would be a single statement holding the event loop for seconds on a large file.
 */
function bulkLoading(dest: BetterSqlite3.Database): void {
  dest.pragma('journal_mode = OFF');
  dest.pragma('synchronous = OFF');
  dest.pragma('cache_size = -65536');
}

/**
 * The file is corrupt: copies what can be read into a fresh file, moves the corrupt one aside to
 * `<path>.corrupt-<time>` and carries on with the fresh one.
 */
export function salvageSqlite(ctx: RepairContext): Promise<RepairOutcome> {
  const { handle } = ctx;
  const path = handle.path;
  return repair(ctx, 'salvage', async (tmp, stamp) => {
    const dest = await freshDatabase(tmp, ctx.now);
    const tables: TableSalvage[] = [];
    try {
      const src = handle.raw;
      let names: string[];
      try {
        names = tableNames(src);
      } catch (err) {
        names = [];
        tables.push({ table: 'sqlite_master', rows: 0, regions: 0, lostAtMost: 0, error: errorMessage(err) });
      }
      const wanted = new Set(tableNames(dest));
      bulkLoading(dest);
      for (const name of names.filter((n) => wanted.has(n) && n !== 'prodmon_migrations')) {
        tables.push(await salvageTable(src, dest, name));
      }
      dest.pragma('journal_mode = WAL');
    } finally {
      dest.close();
    }
    const movedTo = clearPath(handle, stamp, 'corrupt');
    switchTo(handle, tmp);
    return {
      kind: 'salvaged',
      summary: `salvaged ${path} into a fresh file: ${describeSalvage(tables)}${movedTo ? `; the file that was at the path is kept as ${movedTo}` : ''}`,
      movedTo,
      tables,
    };
  });
}
