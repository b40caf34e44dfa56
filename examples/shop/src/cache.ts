/**
 * The inventory cache: stock levels in Redis (node-redis 6), read-through with a TTL. Redis is an
 * optimisation, never a dependency: when it is down, slow or switched off, reads go to the database at
 * once. Commands have a short deadline; a deadline missed drops the connection and reconnects in the
 * background, so a hung server cannot hold requests.
 */
import { createClient, type RedisClientType } from 'redis';

/** How to reach Redis and how long to trust it. */
export interface InventoryCacheOptions {
  /** `redis://...`; null runs without a cache (every read is a bypass). */
  url: string | null;
  /** Prefix of every key (one shop, or one test, per prefix). */
  prefix: string;
  ttlSeconds?: number;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  /** Longest wait between reconnection attempts. */
  maxReconnectDelayMs?: number;
  /** Told when the cache goes up or down (for logs). */
  onStateChange?: (state: CacheState, reason: string | null) => void;
  /** Times each command (monitoring). */
  timeCommand?: <T>(operation: string, fn: () => Promise<T>) => Promise<T>;
}

/** `up`: commands go to Redis; `down`: reads bypass it; `disabled`: no URL configured. */
export type CacheState = 'up' | 'down' | 'disabled';

/** Counters since start. */
export interface CacheStats {
  hits: number;
  misses: number;
  bypassed: number;
  timeouts: number;
  errors: number;
}

class Timeout extends Error {}

/** Stock levels cached in Redis, with a database fallback left to the caller. */
export class InventoryCache {
  readonly #opts: Required<Omit<InventoryCacheOptions, 'onStateChange' | 'timeCommand' | 'url'>> & {
    url: string | null;
  };
  readonly #onState: InventoryCacheOptions['onStateChange'];
  readonly #time: NonNullable<InventoryCacheOptions['timeCommand']>;
  #client: RedisClientType | null = null;
  #state: CacheState;
  #reason: string | null = null;
  #forcedDown = false;
  #closed = false;
  #retry: NodeJS.Timeout | null = null;
  readonly stats: CacheStats = { hits: 0, misses: 0, bypassed: 0, timeouts: 0, errors: 0 };

  constructor(opts: InventoryCacheOptions) {
    this.#opts = {
      url: opts.url,
      prefix: opts.prefix,
      ttlSeconds: opts.ttlSeconds ?? 60,
      connectTimeoutMs: opts.connectTimeoutMs ?? 500,
      commandTimeoutMs: opts.commandTimeoutMs ?? 250,
      maxReconnectDelayMs: opts.maxReconnectDelayMs ?? 5000,
    };
    this.#onState = opts.onStateChange;
    this.#time = opts.timeCommand ?? ((_op, fn) => fn());
    this.#state = opts.url ? 'down' : 'disabled';
    if (!opts.url) this.#reason = 'no Redis URL configured';
  }

  /** Current state; `reason` says why it is not up. */
  get state(): CacheState {
    return this.#state;
  }

  /** Whether a connection is open or being made, or a reconnection is scheduled. */
  get connecting(): boolean {
    return this.#client !== null || this.#retry !== null;
  }

  /** Why the cache is not up (null when up). */
  get reason(): string | null {
    return this.#reason;
  }

  /** Starts connecting in the background; never waits for Redis. */
  start(): void {
    if (this.#opts.url && !this.#closed && !this.#forcedDown) this.#connect();
  }

  /** Waits (bounded) until the cache is up; resolves false if it is not by then. */
  async waitUntilUp(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (this.#state !== 'up' && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    return this.#state === 'up';
  }

  /** Simulates an outage (demo fault): drops the connection and stays down until switched back. */
  setForcedDown(on: boolean): void {
    if (on === this.#forcedDown) return;
    this.#forcedDown = on;
    if (on) this.#drop('switched off (fault injection)');
    else this.start();
  }

  #setState(state: CacheState, reason: string | null): void {
    const changed = state !== this.#state;
    this.#state = state;
    this.#reason = reason;
    if (changed) this.#onState?.(state, reason);
  }

  #connect(): void {
    if (this.#client || !this.#opts.url) return;
    const client: RedisClientType = createClient({
      url: this.#opts.url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: this.#opts.connectTimeoutMs,
        reconnectStrategy: (retries: number) =>
          Math.min(100 * 2 ** Math.min(retries, 10), this.#opts.maxReconnectDelayMs),
      },
    });
    client.on('error', (err: Error) => {
      if (this.#client === client) this.#setState('down', err.message || 'connection failed');
    });
    client.on('ready', () => {
      if (this.#client === client) this.#setState('up', null);
    });
    client.on('reconnecting', () => {
      if (this.#client === client && this.#state === 'up') this.#setState('down', 'reconnecting');
    });
    client.on('end', () => {
      if (this.#client === client) this.#setState('down', 'connection closed');
    });
    this.#client = client;
    // connect() keeps retrying per the reconnect strategy; nobody waits for it.
    client.connect().catch((err: Error) => {
      if (this.#client === client) this.#setState('down', err.message);
    });
  }

  /** Drops the connection; reconnects after a pause unless switched off or closed. */
  #drop(reason: string, reconnectAfterMs?: number): void {
    const c = this.#client;
    this.#client = null;
    if (c?.isOpen) c.destroy();
    this.#setState(this.#opts.url ? 'down' : 'disabled', reason);
    if (reconnectAfterMs !== undefined && !this.#forcedDown && !this.#closed && !this.#retry) {
      this.#retry = setTimeout(() => {
        this.#retry = null;
        this.start();
      }, reconnectAfterMs);
      this.#retry.unref();
    }
  }

  /** Runs a command with a deadline; undefined when Redis is not usable right now. */
  async #call<T>(operation: string, fn: (c: RedisClientType) => Promise<T>): Promise<T | undefined> {
    const c = this.#client;
    if (!c?.isReady || this.#forcedDown) {
      this.stats.bypassed++;
      return undefined;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.#time(operation, () => fn(c)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Timeout()), this.#opts.commandTimeoutMs);
        }),
      ]);
    } catch (err) {
      if (err instanceof Timeout) {
        this.stats.timeouts++;
        if (this.#client === c) this.#drop(`no reply within ${this.#opts.commandTimeoutMs}ms`, 1000);
      } else {
        this.stats.errors++;
      }
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  #key(productId: number): string {
    return `${this.#opts.prefix}inv:${productId}`;
  }

  /** Cached stock of the products that are in the cache (misses are absent from the map). */
  async getStock(ids: readonly number[]): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    if (ids.length === 0) return out;
    const values = await this.#call('mget', (c) => c.mGet(ids.map((id) => this.#key(id))));
    if (!values) return out;
    ids.forEach((id, i) => {
      const v = values[i];
      if (v === null || v === undefined) this.stats.misses++;
      else {
        this.stats.hits++;
        out.set(id, Number(v));
      }
    });
    return out;
  }

  /** Stores stock levels (best effort). */
  async setStock(stock: ReadonlyMap<number, number>): Promise<void> {
    if (stock.size === 0) return;
    await this.#call('set', async (c) => {
      const multi = c.multi();
      for (const [id, n] of stock)
        multi.set(this.#key(id), String(n), { expiration: { type: 'EX', value: this.#opts.ttlSeconds } });
      await multi.exec();
    });
  }

  /** Forgets products whose stock changed (best effort: the TTL bounds staleness if Redis is down). */
  async invalidate(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#call('del', (c) => c.del(ids.map((id) => this.#key(id))));
  }

  /** Round trip to Redis in ms, or the reason it failed (for the health check). */
  async ping(): Promise<{ ok: true; ms: number } | { ok: false; reason: string }> {
    if (this.#state !== 'up') return { ok: false, reason: this.#reason ?? this.#state };
    const t0 = performance.now();
    const r = await this.#call('ping', (c) => c.ping());
    return r === 'PONG'
      ? { ok: true, ms: performance.now() - t0 }
      : { ok: false, reason: this.#reason ?? 'no reply' };
  }

  /** Closes the connection for good. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    const c = this.#client;
    this.#client = null;
    if (!c) return;
    if (c.isReady) await c.close().catch(() => c.destroy());
    else if (c.isOpen) c.destroy();
  }
}
