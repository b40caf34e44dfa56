/**
 * Live updates over server-sent events. One loop per monitor (only while someone listens) computes a
 * small digest of what the page shows (status, open alerts, latest checks) and tells every client
 * which sections changed; clients then fetch those sections once. A `tick` each minute tells charts
 * to refresh. Heartbeat comments keep proxies from closing idle streams; the number of clients is
 * bounded; on shutdown every stream is ended so the server can close.
 */
import type { ServerResponse } from 'node:http';
import type { Clock } from '../core/clock.js';

/** What the hub watches: section name -> a digest string that changes when the section does. */
export type Digest = Record<string, string>;

/** What the hub needs. */
export interface LiveHubOptions {
  clock: Clock;
  /** Computes the current digest of each live section. */
  digest(): Promise<Digest>;
  maxClients?: number;
  /** How often the digest is recomputed while clients are connected (default 2 s). */
  pollMs?: number;
  /** Heartbeat comment interval (default 15 s). */
  heartbeatMs?: number;
  /** Charts refresh interval (default 60 s). */
  tickMs?: number;
  /** Reconnect delay suggested to clients (default 3 s). */
  retryMs?: number;
  onError?(err: unknown): void;
}

interface Client {
  res: ServerResponse;
  id: number;
  /** Not yet sent the full digest (`state`), which it compares with what its page shows. */
  fresh: boolean;
}

/** Formats one SSE message. */
export function sseMessage(event: string, data: unknown): string {
  const json = JSON.stringify(data);
  return `event: ${event}\ndata: ${json}\n\n`;
}

/** The set of connected event-stream clients and the loop that feeds them. */
export class LiveHub {
  readonly #o: Required<Omit<LiveHubOptions, 'onError'>> & Pick<LiveHubOptions, 'onError'>;
  readonly #clients = new Map<number, Client>();
  #nextId = 1;
  #last: Digest | null = null;
  #loop: Promise<void> | null = null;
  #stop: AbortController | null = null;
  #wake: AbortController | null = null;
  #closed = false;

  constructor(opts: LiveHubOptions) {
    this.#o = {
      maxClients: 50,
      pollMs: 2000,
      heartbeatMs: 15_000,
      tickMs: 60_000,
      retryMs: 3000,
      ...opts,
    };
  }

  /** Number of connected clients. */
  get clients(): number {
    return this.#clients.size;
  }

  /** Whether another client may connect. */
  get full(): boolean {
    return this.#clients.size >= this.#o.maxClients;
  }

  /**
   * Takes over a response as an event stream (headers already chosen by the caller are kept).
   * Returns false when the hub is full or closed (the caller answers 503 instead).
   */
  attach(res: ServerResponse, headers: Record<string, string> = {}): boolean {
    if (this.#closed || this.full) return false;
    res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    const client: Client = { res, id: this.#nextId++, fresh: true };
    this.#clients.set(client.id, client);
    res.write(`retry: ${this.#o.retryMs}\n: connected\n\n`);
    const drop = () => {
      this.#clients.delete(client.id);
      if (this.#clients.size === 0) this.#stopLoop();
    };
    res.on('close', drop);
    res.on('error', drop);
    this.#startLoop();
    this.notify();
    return true;
  }

  /** Something changed (an alert, a check): recompute now instead of at the next poll. */
  notify(): void {
    this.#wake?.abort();
  }

  /** Sends an event to every client. */
  broadcast(event: string, data: unknown): void {
    const msg = sseMessage(event, data);
    for (const c of this.#clients.values()) this.#write(c, msg);
  }

  #write(c: Client, text: string): void {
    if (c.res.writableEnded || c.res.destroyed) {
      this.#clients.delete(c.id);
      return;
    }
    // A client that cannot keep up (buffer beyond 1 MB) is dropped rather than buffered forever.
    if (c.res.writableLength > 1024 * 1024) {
      c.res.destroy();
      this.#clients.delete(c.id);
      return;
    }
    c.res.write(text);
  }

  #startLoop(): void {
    if (this.#loop || this.#closed) return;
    const stop = new AbortController();
    this.#stop = stop;
    this.#loop = this.#run(stop.signal).finally(() => {
      this.#loop = null;
    });
  }

  #stopLoop(): void {
    this.#stop?.abort();
    this.#stop = null;
  }

  async #run(signal: AbortSignal): Promise<void> {
    const clock = this.#o.clock;
    let nextBeat = clock.now() + this.#o.heartbeatMs;
    let nextTick = clock.now() + this.#o.tickMs;
    while (!signal.aborted) {
      try {
        await this.#check();
      } catch (err) {
        this.#o.onError?.(err);
      }
      const now = clock.now();
      if (now >= nextBeat) {
        for (const c of this.#clients.values()) this.#write(c, `: ping ${now}\n\n`);
        nextBeat = now + this.#o.heartbeatMs;
      }
      if (now >= nextTick) {
        this.broadcast('tick', { at: now });
        nextTick = now + this.#o.tickMs;
      }
      this.#wake = new AbortController();
      try {
        await clock.sleep(this.#o.pollMs, AbortSignal.any([signal, this.#wake.signal]));
      } catch {
        // woken early (notify) or stopped
      }
    }
  }

  async #check(): Promise<void> {
    const digest = await this.#o.digest();
    const prev = this.#last;
    this.#last = digest;
    const at = this.#o.clock.now();
    const changed = prev ? Object.keys(digest).filter((k) => digest[k] !== prev[k]) : [];
    const state = sseMessage('state', { digest, at });
    const change = sseMessage('change', { sections: changed, at });
    for (const c of this.#clients.values()) {
      if (c.fresh) {
        c.fresh = false;
        this.#write(c, state);
      } else if (changed.length > 0) this.#write(c, change);
    }
  }

  /** Ends every stream and the loop (before the server closes). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#stopLoop();
    for (const c of this.#clients.values()) c.res.end();
    this.#clients.clear();
    await this.#loop;
  }
}
