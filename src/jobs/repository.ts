/** What scheduled jobs need from the store: their runs, the instances, leases, and old records to archive. */
import type { ArchiveDataset, ArchiveRecord } from '../domain/archive.js';
import type { InstanceInfo } from '../domain/instance.js';
import type { JobOutcome, JobRun } from '../domain/job.js';
import type { Lease } from '../domain/lease.js';

/** Runs of scheduled jobs. */
export interface JobRunRepository {
  /** Records the start of a run (with e.g. the schedule slot it runs for); returns its id. */
  start(job: string, instance: string, now: number, detail?: Record<string, unknown>): Promise<string>;
  /** One run by id. */
  get(id: string): Promise<JobRun | undefined>;
  /** The newest run of each job (any instance), by job name. */
  latestPerJob(): Promise<JobRun[]>;
  /** Records how a run ended. */
  finish(id: string, outcome: JobOutcome, detail: Record<string, unknown>, now: number): Promise<void>;
  /** Recent runs, newest first (optionally of one job). */
  recent(opts?: { job?: string; limit?: number }): Promise<JobRun[]>;
  /** Deletes runs started before `before`. */
  deleteBefore(before: number): Promise<number>;
}

/** The prodmon processes that share the store. */
export interface InstanceRepository {
  /** Registers or refreshes an instance's heartbeat. */
  heartbeat(info: Omit<InstanceInfo, 'lastSeenAt'>, now: number): Promise<void>;
  /** Instances seen since `since`, most recent first. */
  list(since?: number): Promise<InstanceInfo[]>;
  /** Removes an instance (on clean shutdown). */
  remove(id: string): Promise<void>;
}

/** Old records for the archive job and `prodmon cleanup`: read, then deleted exactly as read. */
export interface ArchiveRepository {
  /** How many records of `ds` are older than `before`. */
  count(ds: ArchiveDataset, before: number): Promise<number>;
  /** Up to `limit` records of `ds` older than `before` (skipping `offset`), oldest first, children nested. */
  oldest(ds: ArchiveDataset, before: number, limit: number, offset?: number): Promise<ArchiveRecord[]>;
  /**
   * Deletes exactly these records (and the nested children listed with them): a row that changed since
   * it was read, or that got a child not in the archive, stays for the next run. Returns how many went.
   */
  remove(ds: ArchiveDataset, records: readonly ArchiveRecord[]): Promise<number>;
}

/**
 * Leases: a named lock held by one holder until it expires, with an epoch that grows at every change
 * of holder. The epoch is the fencing token: leader-only writes check it in the same transaction.
 */
export interface LeaseRepository {
  /**
   * Takes or renews `name` for `holder` until `now + ttlMs`, in one atomic statement: succeeds when the
   * lease is free, expired, or already ours. Returns the lease, or null when another holder has it.
   */
  acquire(name: string, holder: string, ttlMs: number, now: number): Promise<Lease | null>;
  /** The lease as stored, if any. */
  get(name: string): Promise<Lease | undefined>;
  /** Whether `holder` still holds `name` at `epoch` and it has not expired (the fencing check). */
  holds(name: string, holder: string, epoch: number, now: number): Promise<boolean>;
  /**
   * Takes `name` for `holder` even though it has not expired, only if it is still at `fromEpoch` (the
   * holder's session is known to be gone): the epoch grows by one. Returns the lease, or null when it
   * changed meanwhile.
   */
  seize(name: string, holder: string, ttlMs: number, now: number, fromEpoch: number): Promise<Lease | null>;
  /**
   * The fencing check inside a transaction: whether `holder` still holds `name` at `epoch`, unexpired,
   * locking the lease row until the transaction ends (SELECT ... FOR UPDATE on PostgreSQL; on SQLite a
   * no-op UPDATE, which takes the database's write lock), so no takeover can commit in between. On
   * PostgreSQL the transaction may then sit idle at most `idleTimeoutMs`: a holder frozen mid-transaction
   * (SIGSTOP, a long pause) has its session ended by the server, so it cannot block a takeover for long.
   */
  fence(name: string, holder: string, epoch: number, now: number, idleTimeoutMs?: number): Promise<boolean>;
  /** Gives the lease up (only if ours). */
  release(name: string, holder: string): Promise<void>;
}
