/**
 * Leadership: exactly one instance leads (evaluates rules, runs jobs, delivers the outbox). The lease row
 * in the store is the source of truth (renewed on the Clock; its epoch is the fencing token). On
 * PostgreSQL an advisory lock on a dedicated connection makes failover fast: the leader steps down as soon
 * as that connection dies, and a candidate that gets the lock while the holder's session is gone takes
 * the lease at once instead of waiting for it to expire. A frozen leader keeps its session, so then the
 * others wait for the lease to expire; when it wakes, its own clock says the lease is gone and every
 * leader-only write is fenced in its transaction anyway.
 */
import type { Clock } from '../core/clock.js';
import { errorMessage, ProdmonError } from '../core/errors.js';
import type { Lease } from '../domain/lease.js';
import type { Repos, Store } from '../store/index.js';
import { type JobLog, silentJobLog } from './types.js';

/** Who leads, as seen by one instance. */
export interface Leadership {
  /** Whether this instance leads now (holds the lease and, by its own clock, it has not expired). */
  isLeader(): boolean;
  /** The lease epoch (fencing token) while leading, else null. */
  readonly epoch: number | null;
  /** Calls `fn` on every change; returns a function that unsubscribes. */
  onChange(fn: (leader: boolean, epoch: number | null) => void): () => void;
  /**
   * Inside `tx`: throws PRODMON_E_LEADERSHIP unless this instance still holds the lease at its epoch, and
   * returns that epoch. The lease row stays locked until `tx` ends, so what `tx` writes belongs to that
   * epoch even if this instance steps down before the commit (`epoch` may then already read null).
   */
  fence(tx: Pick<Repos, 'leases'>): Promise<number>;
  start(): Promise<void>;
  /** Stops competing; a leader gives the lease up so another takes over at once. */
  stop(): Promise<void>;
}

/** The lock that speeds failover up (PostgreSQL advisory lock on a dedicated connection). */
export interface AdvisoryLock {
  readonly held: boolean;
  /** Tries to take the lock without waiting (connecting first if needed); false on any failure. */
  tryAcquire(): Promise<boolean>;
  release(): Promise<void>;
  /** Whether the dedicated session of lease holder `holder` is still connected to the database. */
  sessionAlive(holder: string): Promise<boolean>;
  /** Called when the dedicated session dies (the lock, if held, is lost with it). */
  onLost(fn: () => void): void;
  close(): Promise<void>;
}

/** The error a fenced write throws. */
export class LeadershipLostError extends ProdmonError {
  constructor(holder: string, epoch: number | null) {
    super(
      'PRODMON_E_LEADERSHIP',
      `${holder} no longer leads (epoch ${epoch ?? 'none'}); the write was not made`,
    );
    this.name = 'LeadershipLostError';
  }
}

/** Options of {@link LeaseLeadership}. */
export interface LeaseLeadershipOptions {
  store: Pick<Store, 'leases'>;
  clock: Clock;
  /** Unique per process (two processes must never share one). */
  holder: string;
  /** Lease name (default `leader`). */
  name?: string;
  ttlMs?: number;
  renewMs?: number;
  pollMs?: number;
  lock?: AdvisoryLock;
  log?: JobLog;
}

/** Leadership by lease (any store), sped up by an advisory lock when one is given. */
export class LeaseLeadership implements Leadership {
  readonly holder: string;
  readonly name: string;
  readonly #o: LeaseLeadershipOptions;
  readonly #ttl: number;
  readonly #renew: number;
  readonly #poll: number;
  readonly #log: JobLog;
  readonly #listeners = new Set<(leader: boolean, epoch: number | null) => void>();
  #leader = false;
  #epoch: number | null = null;
  /** Local expiry: the time the lease was (re)taken, by this clock, plus the TTL. */
  #expiresAt = 0;
  /** Epochs this process held and gave up: holding one again is a new term (the epoch is raised). */
  #lastEpoch = 0;
  #cooldownUntil = 0;
  #stop: AbortController | null = null;
  #wake: AbortController | null = null;
  #loop: Promise<void> | null = null;
  #tick: Promise<void> | null = null;

  constructor(o: LeaseLeadershipOptions) {
    this.#o = o;
    this.holder = o.holder;
    this.name = o.name ?? 'leader';
    this.#ttl = o.ttlMs ?? 10_000;
    this.#renew = o.renewMs ?? 3000;
    this.#poll = o.pollMs ?? 1000;
    this.#log = o.log ?? silentJobLog;
    o.lock?.onLost(() => {
      if (!this.#leader) return;
      // The others polling get the lease first (they try within one poll); a lone instance leads again
      // after one and a half polls, with a new epoch, instead of after `renew`.
      this.#stepDown('its dedicated database session (the leader lock) died', true, 1.5 * this.#poll);
      this.#wake?.abort();
    });
  }

  isLeader(): boolean {
    return this.#leader && this.#o.clock.now() < this.#expiresAt;
  }

  get epoch(): number | null {
    return this.isLeader() ? this.#epoch : null;
  }

  onChange(fn: (leader: boolean, epoch: number | null) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  async fence(tx: Pick<Repos, 'leases'>): Promise<number> {
    const now = this.#o.clock.now();
    const epoch = this.#epoch;
    // A transaction left idle (this process frozen) is ended by PostgreSQL before the lease would expire.
    const idleMs = Math.max(1000, Math.floor(this.#ttl / 2));
    if (
      !this.isLeader() ||
      epoch === null ||
      !(await tx.leases.fence(this.name, this.holder, epoch, now, idleMs))
    ) {
      throw new LeadershipLostError(this.holder, epoch);
    }
    return epoch;
  }

  /** Runs the first round (a lone instance leads when this resolves), then keeps competing in the background. */
  async start(): Promise<void> {
    if (this.#stop) return;
    this.#stop = new AbortController();
    await this.#round();
    this.#loop = this.#run(this.#stop.signal);
  }

  async stop(): Promise<void> {
    if (!this.#stop) return;
    this.#stop.abort();
    await this.#loop;
    await this.#tick;
    this.#stop = null;
    const wasLeader = this.#leader;
    if (wasLeader) this.#stepDown('stopping', false);
    if (wasLeader) await this.#o.store.leases.release(this.name, this.holder).catch(() => {});
    await this.#o.lock?.release().catch(() => {});
    await this.#o.lock?.close().catch(() => {});
  }

  async #run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      this.#wake = new AbortController();
      try {
        await this.#o.clock.sleep(this.#pause(), AbortSignal.any([signal, this.#wake.signal]));
      } catch {
        if (signal.aborted) return;
      }
      await this.#round();
    }
  }

  /** Until the next round: `renew` while leading; else `poll`, or less when a cool-down ends sooner. */
  #pause(): number {
    if (this.#leader) return this.#renew;
    const left = this.#cooldownUntil - this.#o.clock.now();
    return left > 0 ? Math.min(this.#poll, left) : this.#poll;
  }

  #round(): Promise<void> {
    this.#tick = this.#once().catch((err) => {
      this.#log.warn({ err: errorMessage(err) }, 'leader election round failed');
      if (this.#leader && this.#o.clock.now() >= this.#expiresAt)
        this.#stepDown('lease could not be renewed', false);
    });
    return this.#tick;
  }

  async #once(): Promise<void> {
    const { clock, store, lock } = this.#o;
    const now = clock.now();
    if (this.#leader) {
      if (now >= this.#expiresAt) {
        this.#stepDown('the lease expired before it was renewed (process stalled?)', false);
        await lock?.release();
        return;
      }
      const lease = await store.leases.acquire(this.name, this.holder, this.#ttl, now);
      if (!lease || lease.epoch !== this.#epoch) {
        this.#stepDown(`the lease was taken by ${lease?.holder ?? 'another instance'}`, false);
        await lock?.release();
        return;
      }
      this.#expiresAt = now + this.#ttl;
      if (lock && !lock.held) await lock.tryAcquire();
      return;
    }
    if (now < this.#cooldownUntil) return;
    const locked = lock ? lock.held || (await lock.tryAcquire()) : false;
    let lease = await store.leases.acquire(this.name, this.holder, this.#ttl, now);
    if (!lease && locked && lock) {
      // This instance holds the lock, so the holder's session does not: if it is gone, take over now.
      const cur = await store.leases.get(this.name);
      if (cur && cur.holder !== this.holder && !(await lock.sessionAlive(cur.holder))) {
        lease = await store.leases.seize(this.name, this.holder, this.#ttl, now, cur.epoch);
        if (lease)
          this.#log.warn(
            { previous: cur.holder, epoch: lease.epoch },
            'took the lease over from a dead leader',
          );
      }
    }
    if (lease && lease.epoch <= this.#lastEpoch) {
      // Our own old lease: a new term gets a new epoch, so writes of the old term stay fenced off.
      lease = await store.leases.seize(this.name, this.holder, this.#ttl, now, lease.epoch);
    }
    if (lease) this.#becomeLeader(lease, now);
    else if (locked) await lock?.release(); // a live leader holds the lease: let it have the lock
  }

  #becomeLeader(lease: Lease, now: number): void {
    this.#leader = true;
    this.#epoch = lease.epoch;
    this.#lastEpoch = lease.epoch;
    this.#expiresAt = now + this.#ttl;
    this.#log.info({ holder: this.holder, epoch: lease.epoch }, 'became the leader');
    this.#emit();
  }

  /** Stops leading; no new term is sought for `cooldownMs` (default `renew`), so that another can take over. */
  #stepDown(reason: string, release: boolean, cooldownMs = this.#renew): void {
    if (!this.#leader) return;
    const epoch = this.#epoch;
    this.#leader = false;
    this.#epoch = null;
    this.#cooldownUntil = this.#o.clock.now() + cooldownMs;
    this.#log.warn({ holder: this.holder, epoch, reason }, 'stepped down as leader');
    if (release) void this.#o.store.leases.release(this.name, this.holder).catch(() => {});
    this.#emit();
  }

  #emit(): void {
    for (const fn of this.#listeners) {
      try {
        fn(this.#leader, this.#epoch);
      } catch (err) {
        this.#log.error({ err: errorMessage(err) }, 'leadership listener failed');
      }
    }
  }
}

/** Leadership for a process that is always alone (e.g. tests of leader-only parts); fences nothing. */
export function soleLeadership(): Leadership {
  return {
    isLeader: () => true,
    epoch: 1,
    onChange: () => () => {},
    fence: async () => 1,
    start: async () => {},
    stop: async () => {},
  };
}
