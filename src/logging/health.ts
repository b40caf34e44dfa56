/** The logger's own health: healthy, or degraded with a reason (disk full, unwritable directory...). */

/** What `ProductionLogger.status()` returns. */
export interface LogStatus {
  status: 'healthy' | 'degraded';
  /** Why it is degraded (e.g. `application.log: ENOSPC: no space left on device, write`); null when healthy. */
  error: string | null;
  /** Since when it is degraded (ms); null when healthy. */
  since: number | null;
  /** Lines dropped since the logger was created (buffer full while degraded, or logged after close). */
  dropped: number;
}

/** One part that can fail (a file sink). */
export interface HealthSource {
  /** The current problem, or null. */
  problem(): { error: string; since: number } | null;
  /** Lines it dropped so far. */
  readonly dropped: number;
  /** Retries a failed write now if its retry interval has passed (or `force`). */
  retry(force: boolean): void;
}

/** Combines the sources' health and tells subscribers when the overall status changes. */
export class LogHealth {
  readonly #sources: HealthSource[] = [];
  readonly #listeners = new Set<(s: LogStatus) => void>();
  #lastStatus: LogStatus['status'] = 'healthy';
  /** Lines dropped outside the sources (e.g. logged after close). */
  extraDropped = 0;

  /** Adds a source. */
  add(source: HealthSource): void {
    this.#sources.push(source);
  }

  /** The combined status: degraded when any source is, with the earliest problem. */
  status(): LogStatus {
    let first: { error: string; since: number } | null = null;
    let dropped = this.extraDropped;
    for (const s of this.#sources) {
      dropped += s.dropped;
      const p = s.problem();
      if (p && (!first || p.since < first.since)) first = p;
    }
    return first
      ? { status: 'degraded', error: first.error, since: first.since, dropped }
      : { status: 'healthy', error: null, since: null, dropped };
  }

  /** Subscribes to status changes; returns the unsubscribe function. */
  subscribe(fn: (s: LogStatus) => void): () => void {
    this.#listeners.add(fn);
    return () => {
      this.#listeners.delete(fn);
    };
  }

  /**
   * Called on every line: while degraded, every failed source retries when its interval has passed, so one
   * stream's lines also bring back a stream that has nothing new to write.
   */
  poke(): void {
    if (this.#lastStatus === 'degraded') for (const s of this.#sources) s.retry(false);
  }

  /** Called by sources when their state may have changed; notifies on a change of status. */
  changed(): void {
    const s = this.status();
    if (s.status === this.#lastStatus) return;
    this.#lastStatus = s.status;
    for (const fn of [...this.#listeners]) {
      try {
        fn(s);
      } catch {
        // A subscriber's failure must not stop logging or the other subscribers.
      }
    }
  }
}
