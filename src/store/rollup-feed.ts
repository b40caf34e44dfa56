/**
 * Which minutes of which metrics the other processes sharing a PostgreSQL store wrote, as they write
 * them: PostgreSQL's LISTEN/NOTIFY. Every instance flushes its own rollups to the shared store, and an
 * instance that takes pushes stores them, while only the leader evaluates the alert rules and keeps the
 * minutes of their windows in memory between evaluations (src/metrics/window-blocks.ts). Without a
 * word from the writers, the leader saw another instance's rows only when it read a kept minute again,
 * and a push to a follower waited for the leader's next tick.
 *
 * A writer, after its rows are written, sends one notification per batch of (metric, minute) pairs on
 * a channel of its schema (several deployments may share a database); every process that subscribed
 * hears the others' on a session of its own. A notification is a hint, never the data: the listener's
 * session can drop (`pg_terminate_backend`, a restart), so the reader still re-reads kept minutes after
 * a while, and a subscriber is told `null` (anything may have changed) when the session is back.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import { type Clock, systemClock } from '../core/clock.js';
import { pgModule } from '../core/lazy.js';
import type { Database } from './schema.js';

/** Minutes written by another process: metric -> bucket starts (ms). */
export type RollupChange = Map<string, number[]>;

/** What a row must say for the feed. */
export interface WrittenRow {
  metric: string;
  bucket: number;
}

/** The feed of rollup writes between the processes sharing a store. */
export interface RollupFeed {
  /** Tells the other processes that these rows were written (after they were). Never throws. */
  publish(rows: readonly WrittenRow[]): Promise<void>;
  /**
   * Calls `fn` with what other processes wrote, or `null` when writes may have been missed (the
   * listening session came back after a drop); returns a function that unsubscribes. The first
   * subscriber opens the listening session. `onError` hears why notifications could not be sent or
   * heard (the session dropped, the database refused it); they are hints, so nothing stops.
   */
  subscribe(fn: (change: RollupChange | null) => void, onError?: (err: unknown) => void): () => void;
  close(): Promise<void>;
}

/** PostgreSQL's limit on a notification's payload is 8000 bytes; stay well under it. */
const MAX_PAYLOAD = 7000;
/** Waits between attempts to listen again after the session dropped (ms), the last one repeated. */
const RECONNECT_MS = [250, 1000, 2000, 5000, 10_000];

/** The channel of a schema (an identifier of at most 63 bytes, whatever the schema's name). */
export function feedChannel(schema: string): string {
  return `prodmon_rollups_${createHash('sha256').update(schema).digest('hex').slice(0, 20)}`;
}

/** Payloads of at most `MAX_PAYLOAD` bytes for `rows`, each `{"p": publisher, "m": {metric: [bucket...]}}`. */
export function feedPayloads(publisher: string, rows: readonly WrittenRow[]): string[] {
  const byMetric = new Map<string, Set<number>>();
  for (const r of rows) {
    const set = byMetric.get(r.metric) ?? new Set<number>();
    set.add(r.bucket);
    byMetric.set(r.metric, set);
  }
  const out: string[] = [];
  let m: Record<string, number[]> = {};
  let size = 0;
  const flush = () => {
    if (size === 0) return;
    out.push(JSON.stringify({ p: publisher, m }));
    m = {};
    size = 0;
  };
  const overhead = JSON.stringify({ p: publisher, m: {} }).length;
  for (const [metric, buckets] of byMetric) {
    for (const bucket of buckets) {
      const add = (m[metric] ? 0 : JSON.stringify(metric).length + 4) + String(bucket).length + 1;
      if (overhead + size + add > MAX_PAYLOAD) flush();
      if (!m[metric]) {
        m[metric] = [];
        size += JSON.stringify(metric).length + 4;
      }
      m[metric]!.push(bucket);
      size += String(bucket).length + 1;
    }
  }
  flush();
  return out;
}

/** A payload read back (null when it is not one of ours). */
export function parseFeedPayload(
  text: string | undefined,
): { publisher: string; change: RollupChange } | null {
  try {
    const v = JSON.parse(text ?? '') as { p?: unknown; m?: unknown };
    if (typeof v.p !== 'string' || !v.m || typeof v.m !== 'object') return null;
    const change: RollupChange = new Map();
    for (const [metric, buckets] of Object.entries(v.m as Record<string, unknown>)) {
      if (!Array.isArray(buckets)) return null;
      change.set(
        metric,
        buckets.filter((b): b is number => typeof b === 'number' && Number.isFinite(b)),
      );
    }
    return { publisher: v.p, change };
  } catch {
    return null;
  }
}

/** Options of {@link PgRollupFeed}. */
export interface PgRollupFeedOptions {
  /** The pool's Kysely (notifications are sent on it). */
  db: Kysely<Database>;
  url: string;
  schema: string;
  clock?: Clock;
}

/** The feed on PostgreSQL (see the module comment). */
export class PgRollupFeed implements RollupFeed {
  readonly channel: string;
  /** This process's id in its payloads: its own notifications are not told back to it. */
  readonly publisher = randomBytes(8).toString('hex');
  readonly #o: PgRollupFeedOptions;
  readonly #clock: Clock;
  readonly #subscribers = new Set<(change: RollupChange | null) => void>();
  readonly #errors = new Set<(err: unknown) => void>();
  #client: pg.Client | null = null;
  #listening: Promise<void> | null = null;
  #closed = new AbortController();

  constructor(o: PgRollupFeedOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.channel = feedChannel(o.schema);
  }

  async publish(rows: readonly WrittenRow[]): Promise<void> {
    if (rows.length === 0 || this.#closed.signal.aborted) return;
    try {
      for (const payload of feedPayloads(this.publisher, rows))
        await sql`select pg_notify(${this.channel}, ${payload})`.execute(this.#o.db);
    } catch (err) {
      // A hint lost: the readers re-read their kept minutes after a while anyway.
      this.#error(err);
    }
  }

  subscribe(fn: (change: RollupChange | null) => void, onError?: (err: unknown) => void): () => void {
    this.#subscribers.add(fn);
    if (onError) this.#errors.add(onError);
    this.#listening ??= this.#listen();
    return () => {
      this.#subscribers.delete(fn);
      if (onError) this.#errors.delete(onError);
    };
  }

  /** Whether the listening session is open now (for tests and the status line). */
  get listening(): boolean {
    return this.#client !== null;
  }

  async close(): Promise<void> {
    this.#closed.abort(new Error('rollup feed closed'));
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => {});
    await this.#listening;
  }

  /** Keeps a listening session open until closed; after a drop, says `null` once it is back. */
  async #listen(): Promise<void> {
    let attempt = 0;
    let dropped = false;
    while (!this.#closed.signal.aborted) {
      try {
        const { lost } = await this.#open();
        attempt = 0;
        if (dropped) this.#tell(null);
        await lost;
      } catch (err) {
        if (this.#closed.signal.aborted) return;
        this.#error(err);
      }
      if (this.#closed.signal.aborted) return;
      dropped = true;
      const wait = RECONNECT_MS[Math.min(attempt++, RECONNECT_MS.length - 1)]!;
      try {
        await this.#clock.sleep(wait, this.#closed.signal);
      } catch {
        return;
      }
    }
  }

  /** Opens the session and listens; `lost` settles when the session ends. */
  async #open(): Promise<{ lost: Promise<void> }> {
    const client = new (pgModule().Client)({
      connectionString: this.#o.url,
      application_name: 'prodmon-feed',
      connectionTimeoutMillis: 5000,
    });
    const lost = new Promise<void>((resolve) => {
      client.on('error', (err) => {
        if (!this.#closed.signal.aborted) this.#error(err);
        resolve();
      });
      client.on('end', () => resolve());
    });
    client.on('notification', (msg) => {
      if (msg.channel !== this.channel) return;
      const parsed = parseFeedPayload(msg.payload);
      if (parsed && parsed.publisher !== this.publisher) this.#tell(parsed.change);
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    if (this.#closed.signal.aborted) {
      await client.end().catch(() => {});
      return { lost: Promise.resolve() };
    }
    this.#client = client;
    return {
      lost: lost.then(() => {
        if (this.#client === client) this.#client = null;
      }),
    };
  }

  #error(err: unknown): void {
    for (const fn of this.#errors) fn(err);
  }

  #tell(change: RollupChange | null): void {
    for (const fn of this.#subscribers) {
      try {
        fn(change);
      } catch (err) {
        this.#error(err);
      }
    }
  }
}
