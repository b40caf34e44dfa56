/**
 * Watching the store like any dependency, for the `self` check: a write-then-read round trip on a row
 * of its own (not `select 1`), and per database what `select 1` cannot see:
 *
 * - SQLite: the file at the path is still the one opened (same device and inode), `PRAGMA quick_check`
 *   on a schedule (on a worker thread), and any statement failing with a corruption or I/O error
 *   reported at once. A deleted or replaced file is restored from the open database; a corrupt one is
 *   salvaged into a fresh file (see `sqlite-repair.ts`).
 * - PostgreSQL: a pooled connection dropped by the server is reported at once; `self` is degraded until
 *   a later round trip (on a new connection) succeeds.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { type Clock, systemClock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { HealthStatus } from '../domain/health.js';
import { type IntegrityResult, quickCheck } from './integrity.js';
import { StateRepo } from './repos/state.js';
import type { Database } from './schema.js';
import { fileIdentity, type SqliteFaultKind, type SqliteHandle } from './sqlite-handle.js';
import { type RepairOutcome, restoreSqlite, salvageSqlite } from './sqlite-repair.js';

/** What went wrong with the store. */
export type StoreFaultKind = 'deleted' | 'replaced' | 'corrupt' | 'io' | 'dropped' | 'unreachable';

/** A failure seen by an operation or a probe. */
export interface StoreFault {
  kind: StoreFaultKind;
  /** One sentence. */
  detail: string;
  at: number;
}

/** The store as the `self` check reports it. */
export interface StoreReport {
  status: HealthStatus;
  /** What is wrong, one sentence (null when healthy). */
  error: string | null;
  /**
   * The store cannot be trusted to keep what is written (deleted, replaced, corrupt, failing I/O,
   * unreachable): alerts must reach people without it.
   */
  failing: boolean;
  /** Facts for the check's details. */
  detail: Record<string, unknown>;
}

/** Where the watch logs (pino-compatible). */
export interface WatchLog {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** Settings the app gives the watch once it has them (a store may be opened before). */
export interface WatchSettings {
  clock?: Clock;
  log?: WatchLog;
  /** SQLite: how often `PRAGMA quick_check` runs (0: never). */
  integrityIntervalMs?: number;
  /**
   * SQLite: restore a deleted or replaced file and salvage a corrupt one (default false: only report).
   * Only the process that owns the store (the running monitor) repairs it, never a CLI command.
   */
  repair?: boolean;
  /** SQLite: asked before each repair; a reason not to (other processes use the file...) stops it. */
  repairBlocker?: () => Promise<string | null>;
}

/** The store's watch; see the module comment. */
export interface StoreWatch {
  configure(s: WatchSettings): void;
  /** Checks the store now (identity, round trip, integrity when due) and reports. */
  probe(): Promise<StoreReport>;
  /** Calls `fn` at once when an operation fails with a corruption or I/O error or a connection drops. */
  onFault(fn: (f: StoreFault) => void): () => void;
  /** Resolves when no repair and no integrity check is running. */
  idle(): Promise<void>;
  /** Waits for the repair or integrity check in progress; the store closes after. */
  close(): Promise<void>;
}

/** The key of the round trip's row in `state`. */
export const ROUND_TRIP_KEY = 'store_probe';
/** A failed repair is tried again after this long. */
const REPAIR_RETRY_MS = 5 * 60_000;

const iso = (ms: number) => new Date(ms).toISOString();
const ms1 = (t0: number) => Math.round((performance.now() - t0) * 10) / 10;

/** The parts every watch shares: settings, fault listeners, the round trip. */
class BaseWatch {
  protected clock: Clock = systemClock;
  protected log: WatchLog | undefined;
  protected integrityEveryMs = 0;
  protected repair = false;
  protected repairBlocker: (() => Promise<string | null>) | undefined;
  readonly #listeners = new Set<(f: StoreFault) => void>();
  #faults: StoreFault[] = [];

  constructor(
    protected readonly db: Kysely<Database>,
    protected readonly driver: string,
  ) {}

  configure(s: WatchSettings): void {
    if (s.clock) this.clock = s.clock;
    if (s.log) this.log = s.log;
    if (s.integrityIntervalMs !== undefined) this.integrityEveryMs = s.integrityIntervalMs;
    if (s.repair !== undefined) this.repair = s.repair;
    if (s.repairBlocker) this.repairBlocker = s.repairBlocker;
  }

  onFault(fn: (f: StoreFault) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  async probe(): Promise<StoreReport> {
    return this.roundTripReport(this.takeFaults());
  }

  async idle(): Promise<void> {}

  async close(): Promise<void> {}

  /** Records a fault (reported by the next probe) and tells the listeners. */
  protected fault(kind: StoreFaultKind, detail: string): StoreFault {
    const f: StoreFault = { kind, detail, at: this.clock.now() };
    if (this.#faults.length < 20) this.#faults.push(f);
    for (const fn of this.#listeners) {
      try {
        fn(f);
      } catch {
        // a listener's error must not turn into the store operation's error
      }
    }
    return f;
  }

  /** The faults since the last probe. */
  protected takeFaults(): StoreFault[] {
    const out = this.#faults;
    this.#faults = [];
    return out;
  }

  /**
   * Writes a fresh value to a row of its own and reads it back in one transaction (so instances sharing
   * a database do not interleave); returns the time it took.
   */
  protected async roundTrip(): Promise<number> {
    const t0 = performance.now();
    const nonce = randomBytes(8).toString('hex');
    const now = this.clock.now();
    const back = await this.db.transaction().execute(async (trx) => {
      const state = new StateRepo(trx);
      await state.set(ROUND_TRIP_KEY, { nonce, at: now }, now);
      return state.get<{ nonce?: string }>(ROUND_TRIP_KEY);
    });
    if (back?.nonce !== nonce)
      throw new Error(`the round trip read back ${JSON.stringify(back)} instead of what it wrote`);
    return ms1(t0);
  }

  /** The report of a round trip, given the faults seen since the last probe. */
  protected async roundTripReport(
    faults: StoreFault[],
    extra: Record<string, unknown> = {},
  ): Promise<StoreReport> {
    const detail: Record<string, unknown> = { driver: this.driver, ...extra };
    try {
      detail.latencyMs = await this.roundTrip();
    } catch (err) {
      return {
        status: 'unhealthy',
        error: `write-then-read round trip failed: ${errorMessage(err)}`,
        failing: true,
        detail,
      };
    }
    const serious = faults.find((f) => f.kind !== 'dropped');
    if (serious)
      return {
        status: 'unhealthy',
        error: `${serious.detail} (at ${iso(serious.at)}; the round trip works again)`,
        failing: true,
        detail,
      };
    if (faults.length > 0)
      return {
        status: 'degraded',
        error: `${faults.length} connection(s) dropped since the last probe (${faults[0]!.detail}); the pool reconnected`,
        failing: false,
        detail,
      };
    return { status: 'healthy', error: null, failing: false, detail };
  }
}

/** A store reached through Kysely alone (tests, tools): the round trip only. */
export class PlainWatch extends BaseWatch {}

/** PostgreSQL: the round trip, and connections the server dropped. */
export class PostgresWatch extends BaseWatch {
  #pool: pg.Pool | undefined;

  constructor(db: Kysely<Database>) {
    super(db, 'postgres');
  }

  /** The pool (for its counts in the report). */
  attachPool(pool: pg.Pool): void {
    this.#pool = pool;
  }

  /** A pooled connection ended with an error (given to `openPostgres`). */
  dropped(err: Error): void {
    this.fault('dropped', `connection lost: ${errorMessage(err)}`);
  }

  /**
   * A round trip that lost its connection (terminated, reset) is tried again on another, at most once
   * per pooled connection (each may be dead without the pool knowing yet), then on a new one: the lost
   * connections are reported as dropped (degraded), not as an outage.
   */
  protected override async roundTrip(): Promise<number> {
    const tries = (this.#pool?.options.max ?? 10) + 1;
    for (let i = 1; ; i++) {
      try {
        return await super.roundTrip();
      } catch (err) {
        if (!connectionLost(err) || i >= tries) throw err;
        this.fault('dropped', `connection lost: ${errorMessage(err)}`);
      }
    }
  }

  override async probe(): Promise<StoreReport> {
    const p = this.#pool;
    const pool = p ? { total: p.totalCount, idle: p.idleCount, waiting: p.waitingCount } : undefined;
    return this.roundTripReport(this.takeFaults(), pool ? { pool } : {});
  }
}

/** Whether a PostgreSQL error means the connection was lost (not that the statement failed). */
export function connectionLost(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (
    typeof code === 'string' &&
    (/^57P0[123]$/.test(code) || code.startsWith('08') || /^E(CONNRESET|PIPE)$/.test(code))
  )
    return true;
  return /connection terminated|connection error|terminating connection|ECONNRESET|EPIPE/i.test(
    errorMessage(err),
  );
}

interface Repair {
  kind: 'restore' | 'salvage';
  reason: string;
  startedAt: number;
  done: Promise<void>;
}

/** SQLite: the file's identity, its integrity, corruption and I/O errors, and repairs. */
export class SqliteWatch extends BaseWatch {
  readonly #handle: SqliteHandle;
  #repair: Repair | null = null;
  #lastRepair: (RepairOutcome & { at: number; reason: string }) | null = null;
  #repairFailed: { kind: Repair['kind']; reason: string; error: string; retryAt: number } | null = null;
  #integrity: Promise<void> | null = null;
  #integrityStartedAt: number | null = null;
  #lastIntegrity: (IntegrityResult & { at: number }) | null = null;
  #starting: Promise<void> | null = null;
  #closed = false;

  constructor(db: Kysely<Database>, handle: SqliteHandle) {
    super(db, 'sqlite');
    this.#handle = handle;
  }

  /** A statement failed (given to `openSqlite`): corruption starts a salvage at once. */
  failed(kind: SqliteFaultKind, err: unknown): void {
    const what =
      kind === 'corrupt' ? 'the database file is corrupt' : 'reading or writing the database file failed';
    const f = this.fault(kind, `${what}: ${errorMessage(err)}`);
    if (kind === 'corrupt') queueMicrotask(() => this.#startRepair('salvage', f.detail));
  }

  override async probe(): Promise<StoreReport> {
    const path = this.#handle.path;
    const detail: Record<string, unknown> = { path };
    if (this.#lastRepair) detail.lastRepair = { ...this.#lastRepair, at: iso(this.#lastRepair.at) };
    if (this.#lastIntegrity)
      detail.integrity = {
        at: iso(this.#lastIntegrity.at),
        ok: this.#lastIntegrity.ok,
        durationMs: this.#lastIntegrity.durationMs,
        ...(this.#lastIntegrity.ok ? {} : { problems: this.#lastIntegrity.problems }),
      };
    const failing = (error: string): StoreReport => ({
      status: 'unhealthy',
      error,
      failing: true,
      detail: { driver: 'sqlite', ...detail },
    });
    const faults = this.takeFaults();
    let identity: { kind: 'deleted' | 'replaced'; detail: string } | null;
    try {
      identity = this.#identityProblem();
    } catch (err) {
      return failing(`the SQLite file ${path} cannot be examined: ${errorMessage(err)}`);
    }
    if (!identity && this.#repairFailed?.kind === 'restore') this.#repairFailed = null; // put back meanwhile
    const corrupt =
      faults.find((f) => f.kind === 'corrupt') ??
      (this.#repairFailed?.kind === 'salvage' ? { detail: this.#repairFailed.reason } : undefined);
    if (identity) await this.#startRepair('restore', identity.detail);
    else if (corrupt) await this.#startRepair('salvage', corrupt.detail);
    const r = this.#repair;
    if (r)
      return failing(
        `${r.reason}; ${r.kind === 'restore' ? 'restoring it from the open database' : 'salvaging it into a fresh file'} since ${iso(r.startedAt)}`,
      );
    const failed = this.#repairFailed;
    if (failed)
      return failing(
        `${failed.reason}; not ${failed.kind === 'restore' ? 'restored' : 'salvaged'}: ${failed.error} (tried again from ${iso(failed.retryAt)})`,
      );
    if (identity) return failing(identity.detail); // this process does not repair
    const report = await this.roundTripReport(faults, detail);
    if (report.status === 'healthy') this.#maybeCheckIntegrity();
    return report;
  }

  override async idle(): Promise<void> {
    while (this.#repair || this.#integrity) {
      await this.#repair?.done;
      await this.#integrity;
    }
  }

  override async close(): Promise<void> {
    this.#closed = true;
    await this.idle();
  }

  /** Runs `PRAGMA quick_check` now (on a worker thread) unless one is running; resolves when done. */
  checkIntegrity(): Promise<void> {
    this.#integrity ??= this.#runIntegrity().finally(() => {
      this.#integrity = null;
    });
    return this.#integrity;
  }

  #identityProblem(): { kind: 'deleted' | 'replaced'; detail: string } | null {
    const path = this.#handle.path;
    const opened = this.#handle.opened;
    if (!opened) return null;
    const now = fileIdentity(path);
    if (!now)
      return { kind: 'deleted', detail: `the SQLite file ${path} was deleted while prodmon had it open` };
    if (now.dev !== opened.dev || now.ino !== opened.ino)
      return {
        kind: 'replaced',
        detail: `the SQLite file ${path} was replaced by another file while prodmon had it open`,
      };
    return null;
  }

  #maybeCheckIntegrity(): void {
    const every = this.integrityEveryMs;
    if (every <= 0 || this.#closed || !this.#handle.opened) return;
    const now = this.clock.now();
    const last = this.#integrityStartedAt;
    if (last === null) {
      this.#integrityStartedAt = now; // the first one interval after opening: not on every start
      return;
    }
    if (now - last < every) return;
    void this.checkIntegrity();
  }

  async #runIntegrity(): Promise<void> {
    this.#integrityStartedAt = this.clock.now();
    const r = await quickCheck(this.#handle.path);
    this.#lastIntegrity = { ...r, at: this.clock.now() };
    if (r.failed) {
      this.log?.warn({ problems: r.problems }, 'the store integrity check could not run');
      return;
    }
    this.log?.info({ ok: r.ok, durationMs: r.durationMs }, 'store integrity check done');
    if (!r.ok && !this.#closed) {
      const f = this.fault(
        'corrupt',
        `the integrity check found the database file corrupt: ${r.problems.slice(0, 3).join('; ')}`,
      );
      this.#startRepair('salvage', f.detail);
    }
  }

  /**
   * Starts a repair unless one runs, this process does not repair, a failed one waits to be retried, or
   * the blocker says no; resolves once that is decided (not when the repair ends).
   */
  #startRepair(kind: Repair['kind'], reason: string): Promise<void> {
    if (this.#repair || this.#closed || !this.repair) return Promise.resolve();
    this.#starting ??= this.#tryRepair(kind, reason).finally(() => {
      this.#starting = null;
    });
    return this.#starting;
  }

  async #tryRepair(kind: Repair['kind'], reason: string): Promise<void> {
    const now = this.clock.now();
    const failed = this.#repairFailed;
    if (failed && now < failed.retryAt) return;
    const blocked = await this.repairBlocker?.().catch(() => null);
    if (blocked) {
      // Asked again at the next probe: the obstacle may be gone by then.
      this.#repairFailed = { kind, reason, error: blocked, retryAt: now };
      if (failed?.error !== blocked)
        this.log?.error({ reason, blocked }, `prodmon's store is failing and is not repaired: ${blocked}`);
      return;
    }
    if (this.#repair || this.#closed) return;
    this.log?.error(
      { reason },
      `prodmon's store is failing: ${reason}; ${kind === 'restore' ? 'restoring' : 'salvaging'} it`,
    );
    const ctx = {
      handle: this.#handle,
      now,
      exclusive: <T>(fn: () => Promise<T>) => this.db.connection().execute(() => fn()),
    };
    const repair: Repair = { kind, reason, startedAt: now, done: Promise.resolve() };
    this.#repair = repair;
    repair.done = (async () => {
      try {
        await this.#integrity; // its connection reads the file being replaced
        const out = await (kind === 'restore' ? restoreSqlite(ctx) : salvageSqlite(ctx));
        this.#lastRepair = { ...out, at: this.clock.now(), reason };
        this.#repairFailed = null;
        this.takeFaults(); // they were about the old file
        this.log?.error({ reason, ...out }, `prodmon's store was repaired: ${out.summary}`);
      } catch (err) {
        this.#repairFailed = {
          kind,
          reason,
          error: errorMessage(err),
          retryAt: this.clock.now() + REPAIR_RETRY_MS,
        };
        this.log?.error(
          { reason, err: errorMessage(err) },
          `prodmon's store could not be repaired (${kind})`,
        );
      } finally {
        this.#repair = null;
      }
    })();
  }
}
