/** The limit on failed dashboard sign-ins. */
import type { Clock } from '../core/clock.js';

interface Failures {
  count: number;
  first: number;
}

/**
 * Limits failed sign-ins: `maxFailures` per (client address, name) and four times that per address,
 * within a fixed window from the first failure. Memory is bounded (oldest entries go first).
 */
export class LoginLimiter {
  readonly #clock: Clock;
  readonly #max: number;
  readonly #windowMs: number;
  readonly #maxEntries: number;
  readonly #failures = new Map<string, Failures>();

  constructor(opts: { clock: Clock; maxFailures: number; windowMs: number; maxEntries?: number }) {
    this.#clock = opts.clock;
    this.#max = opts.maxFailures;
    this.#windowMs = opts.windowMs;
    this.#maxEntries = opts.maxEntries ?? 10_000;
  }

  #live(key: string, now: number): Failures | undefined {
    const f = this.#failures.get(key);
    if (f && now - f.first >= this.#windowMs) {
      this.#failures.delete(key);
      return undefined;
    }
    return f;
  }

  /** How long (ms) sign-ins from `ip` for `name` are refused; 0 when allowed. */
  blockedFor(ip: string, name: string): number {
    const now = this.#clock.now();
    let wait = 0;
    for (const [key, max] of [
      [`${ip}\u0000${name}`, this.#max],
      [ip, this.#max * 4],
    ] as const) {
      const f = this.#live(key, now);
      if (f && f.count >= max) wait = Math.max(wait, f.first + this.#windowMs - now);
    }
    return wait;
  }

  /** Counts a failed attempt. */
  fail(ip: string, name: string): void {
    const now = this.#clock.now();
    for (const key of [`${ip}\u0000${name}`, ip]) {
      const f = this.#live(key, now);
      if (f) f.count++;
      else {
        if (this.#failures.size >= this.#maxEntries) {
          this.#failures.delete(this.#failures.keys().next().value!);
        }
        this.#failures.set(key, { count: 1, first: now });
      }
    }
  }

  /** Forgets the failures of (ip, name) after a successful sign-in. */
  succeed(ip: string, name: string): void {
    this.#failures.delete(`${ip}\u0000${name}`);
  }
}
