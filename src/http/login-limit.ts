/** The limit on failed dashboard sign-ins. */
import type { Clock } from '../core/clock.js';

interface Attempts {
  count: number;
  first: number;
}

/**
 * Limits sign-in attempts: `maxFailures` per (client address, name) and four times that per address,
 * within a fixed window from the first attempt. An attempt is counted when it starts, before the password
 * is checked, so concurrent attempts cannot all pass the check while the first ones are still hashing; a
 * successful sign-in gives its attempt back. Memory is bounded (oldest entries go first).
 */
export class LoginLimiter {
  readonly #clock: Clock;
  readonly #max: number;
  readonly #windowMs: number;
  readonly #maxEntries: number;
  readonly #attempts = new Map<string, Attempts>();

  constructor(opts: { clock: Clock; maxFailures: number; windowMs: number; maxEntries?: number }) {
    this.#clock = opts.clock;
    this.#max = opts.maxFailures;
    this.#windowMs = opts.windowMs;
    this.#maxEntries = opts.maxEntries ?? 10_000;
  }

  #live(key: string, now: number): Attempts | undefined {
    const f = this.#attempts.get(key);
    if (f && now - f.first >= this.#windowMs) {
      this.#attempts.delete(key);
      return undefined;
    }
    return f;
  }

  #keys(ip: string, name: string): [string, number][] {
    return [
      [`${ip}\u0000${name}`, this.#max],
      [ip, this.#max * 4],
    ];
  }

  /** How long (ms) sign-ins from `ip` for `name` are refused; 0 when allowed. */
  blockedFor(ip: string, name: string): number {
    const now = this.#clock.now();
    let wait = 0;
    for (const [key, max] of this.#keys(ip, name)) {
      const f = this.#live(key, now);
      if (f && f.count >= max) wait = Math.max(wait, f.first + this.#windowMs - now);
    }
    return wait;
  }

  /**
   * Starts an attempt: counted at once when allowed (0 is returned), refused and not counted when the
   * limit is reached (the wait in ms is returned). Synchronous, so no two callers see the same count.
   */
  attempt(ip: string, name: string): number {
    const wait = this.blockedFor(ip, name);
    if (wait > 0) return wait;
    const now = this.#clock.now();
    for (const [key] of this.#keys(ip, name)) {
      const f = this.#live(key, now);
      if (f) f.count++;
      else {
        if (this.#attempts.size >= this.#maxEntries) {
          this.#attempts.delete(this.#attempts.keys().next().value!);
        }
        this.#attempts.set(key, { count: 1, first: now });
      }
    }
    return 0;
  }

  /** A successful sign-in: forgets the attempts of (ip, name) and gives this attempt back to the address. */
  succeed(ip: string, name: string): void {
    this.#attempts.delete(`${ip}\u0000${name}`);
    const f = this.#live(ip, this.#clock.now());
    if (f && --f.count <= 0) this.#attempts.delete(ip);
  }
}
