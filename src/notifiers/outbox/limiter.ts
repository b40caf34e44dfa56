/**
 * Per-channel send budget (in memory, on the Clock): at most `max` messages per `per` ms (sliding
 * window), and a pause when the receiver asked to wait (Retry-After) or the channel is failing.
 */

/** A channel's rate limit. */
export interface RateLimit {
  max: number;
  per: number;
}

/** The send budget of one channel. */
export class ChannelLimiter {
  readonly #limit: RateLimit | undefined;
  #sent: number[] = [];
  #pausedUntil = 0;

  constructor(limit?: RateLimit) {
    this.#limit = limit;
  }

  #prune(now: number): void {
    if (!this.#limit) return;
    const from = now - this.#limit.per;
    while (this.#sent.length > 0 && this.#sent[0]! <= from) this.#sent.shift();
  }

  /** How many messages may go now (Infinity without a limit; 0 while paused). */
  available(now: number): number {
    if (now < this.#pausedUntil) return 0;
    if (!this.#limit) return Number.POSITIVE_INFINITY;
    this.#prune(now);
    return Math.max(0, this.#limit.max - this.#sent.length);
  }

  /** When the next message may go (only meaningful when `available(now)` is 0). */
  nextFreeAt(now: number): number {
    if (now < this.#pausedUntil) return this.#pausedUntil;
    if (!this.#limit) return now;
    this.#prune(now);
    return this.#sent.length < this.#limit.max ? now : this.#sent[0]! + this.#limit.per;
  }

  /** Counts one message sent at `now`. */
  take(now: number): void {
    if (this.#limit) this.#sent.push(now);
  }

  /** Sends nothing before `until`. */
  pause(until: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, until);
  }

  /** Ends a pause (after a success). */
  resume(): void {
    this.#pausedUntil = 0;
  }
}
