/**
 * Holding groups back while the alert engine is still writing them: an evaluation pass opens a hold,
 * every group the sink writes to during it is held, and the release lets the worker send each held
 * group once, as one message, however many transactions the pass committed. The hold is in memory
 * (the leader evaluates and delivers in one process); a crash drops it, and the rows go out as usual.
 */

/** Open holds and the groups written to during each. */
export class GroupHolds {
  readonly #open = new Set<Set<string>>();
  readonly #onRelease: () => void;

  constructor(onRelease: () => void = () => {}) {
    this.#onRelease = onRelease;
  }

  /** Opens a hold; returns its release (idempotent). */
  hold(): () => void {
    const keys = new Set<string>();
    this.#open.add(keys);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#open.delete(keys);
      if (keys.size > 0) this.#onRelease();
    };
  }

  /** Notes that a group was written to (held while any hold is open). */
  note(key: string): void {
    for (const keys of this.#open) keys.add(key);
  }

  /** Whether a group waits for a hold to be released. */
  isHeld(key: string): boolean {
    for (const keys of this.#open) if (keys.has(key)) return true;
    return false;
  }
}
