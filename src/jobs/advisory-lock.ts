/**
 * The PostgreSQL advisory lock of the leader, on a dedicated connection (a `pg.Client`, never one from
 * the pool, so the lock lives and dies with that one session). The session's `application_name` names
 * the lease holder, so candidates can tell whether the holder's session still exists, and operators can
 * find it in `pg_stat_activity`.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { errorMessage } from '../core/errors.js';
import { pgModule } from '../core/lazy.js';
import type { AdvisoryLock } from './leadership.js';
import { type JobLog, silentJobLog } from './types.js';

/** First key of prodmon's advisory locks ('prod'). */
const LOCK_CLASS = 0x70726f64;
const APP_PREFIX = 'prodmon-leader:';

/** The `application_name` of the dedicated session of lease holder `holder` (at most 63 bytes). */
export function leaderSessionName(holder: string): string {
  const name = APP_PREFIX + holder;
  if (Buffer.byteLength(name) <= 63) return name;
  return APP_PREFIX + createHash('sha256').update(holder).digest('hex').slice(0, 40);
}

/** The second lock key: per schema and lease, so prodmon deployments sharing a database do not collide. */
export function lockKey(schema: string, lease: string): number {
  return createHash('sha256').update(`${schema}\u0000${lease}`).digest().readInt32BE(0);
}

/** Options of {@link PgAdvisoryLock}. */
export interface PgAdvisoryLockOptions {
  url: string;
  schema: string;
  /** The lease holder this lock belongs to. */
  holder: string;
  lease?: string;
  connectTimeoutMs?: number;
  log?: JobLog;
}

/** An advisory lock held on its own connection; losing the connection loses the lock (and says so). */
export class PgAdvisoryLock implements AdvisoryLock {
  readonly #o: PgAdvisoryLockOptions;
  readonly #key: number;
  readonly #log: JobLog;
  #client: pg.Client | null = null;
  #connecting: Promise<pg.Client> | null = null;
  #held = false;
  #lost = new Set<() => void>();

  constructor(o: PgAdvisoryLockOptions) {
    this.#o = o;
    this.#key = lockKey(o.schema, o.lease ?? 'leader');
    this.#log = o.log ?? silentJobLog;
  }

  get held(): boolean {
    return this.#held;
  }

  onLost(fn: () => void): void {
    this.#lost.add(fn);
  }

  async tryAcquire(): Promise<boolean> {
    if (this.#held) return true;
    try {
      const c = await this.#connect();
      const r = await c.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [
        LOCK_CLASS,
        this.#key,
      ]);
      this.#held = r.rows[0]?.ok === true && this.#client === c;
    } catch (err) {
      this.#log.warn({ err: errorMessage(err) }, 'leader lock: cannot reach PostgreSQL');
      this.#held = false;
    }
    return this.#held;
  }

  async release(): Promise<void> {
    if (!this.#held) return;
    this.#held = false;
    const c = this.#client;
    if (!c) return;
    try {
      await c.query('select pg_advisory_unlock($1, $2)', [LOCK_CLASS, this.#key]);
    } catch {
      this.#drop(c); // a session in doubt is closed: that releases the lock for sure
    }
  }

  async sessionAlive(holder: string): Promise<boolean> {
    const c = await this.#connect();
    const r = await c.query<{ n: string | number }>(
      'select count(*) as n from pg_stat_activity where datname = current_database() and application_name = $1',
      [leaderSessionName(holder)],
    );
    return Number(r.rows[0]?.n ?? 0) > 0;
  }

  async close(): Promise<void> {
    this.#held = false;
    const c = this.#client;
    this.#client = null;
    if (c) await c.end().catch(() => {});
  }

  #connect(): Promise<pg.Client> {
    if (this.#client) return Promise.resolve(this.#client);
    this.#connecting ??= (async () => {
      const c = new (pgModule().Client)({
        connectionString: this.#o.url,
        application_name: leaderSessionName(this.#o.holder),
        connectionTimeoutMillis: this.#o.connectTimeoutMs ?? 5000,
        keepAlive: true,
      });
      c.on('error', (err) => {
        this.#log.warn({ err: errorMessage(err) }, 'leader lock: connection lost');
        this.#drop(c);
      });
      c.on('end', () => this.#drop(c));
      try {
        await c.connect();
      } catch (err) {
        c.end().catch(() => {});
        throw err;
      }
      this.#client = c;
      return c;
    })().finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  #drop(c: pg.Client): void {
    if (this.#client !== c) return;
    this.#client = null;
    this.#held = false;
    c.end().catch(() => {});
    // Whether or not it held the lock, the session is gone: a leader must not go on as if nothing happened.
    for (const fn of this.#lost) fn();
  }
}
