/** The engine's timing helpers: a serial queue, coalesced queued runs, and a loop that can wake early. */
import type { Clock } from '../core/clock.js';

/** Runs jobs one at a time, in order; a failed job does not stop the next. */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  readonly #around: (() => (() => void) | undefined) | undefined;

  /** `around`: called as each job starts; what it returns is called when the job ends (a hold's release). */
  constructor(around?: () => (() => void) | undefined) {
    this.#around = around;
  }

  /** Queues `fn`; resolves or rejects with its outcome. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const around = this.#around;
    const wrapped = around
      ? async () => {
          const release = around();
          try {
            return await fn();
          } finally {
            release?.();
          }
        }
      : fn;
    const job = this.#tail.then(wrapped, wrapped);
    this.#tail = job.catch(() => {});
    return job;
  }

  /** Resolves once every job queued so far (and those they queued) has finished. */
  async idle(): Promise<void> {
    for (let t = this.#tail; ; t = this.#tail) {
      await t;
      if (t === this.#tail) return;
    }
  }
}

/**
 * A queued run that takes what arrives until it starts: at most one run is queued at a time, and what
 * arrives while it waits behind other evaluations is merged into it (fresh data for several metrics is
 * evaluated once). No timer: when to run is decided upstream (the data's `Trigger`).
 */
export function coalesced<T>(
  queue: SerialQueue,
  merge: (pending: T | undefined, next: T) => T,
  run: (value: T) => Promise<void>,
  onError: (err: unknown) => void,
): (value: T) => void {
  let pending: T | undefined;
  let queued = false;
  return (value) => {
    pending = merge(pending, value);
    if (queued) return;
    queued = true;
    queue
      .run(async () => {
        queued = false;
        const v = pending as T;
        pending = undefined;
        await run(v);
      })
      .catch(onError);
  };
}

/**
 * Runs `body` now and then every `intervalMs` on `clock`, sooner when `wakeAt()` names an earlier
 * time (never sooner than `minSleepMs` after the last run), until stopped. `reschedule()` makes a
 * sleeping loop read `wakeAt()` again (a retry planned outside the loop's own run).
 */
export function startWakingLoop(o: {
  clock: Clock;
  intervalMs: number;
  minSleepMs: number;
  body: () => Promise<void>;
  wakeAt: () => number | null;
}): { stop(): Promise<void>; reschedule(): void } {
  const ctl = new AbortController();
  let nap = new AbortController();
  const done = (async () => {
    while (!ctl.signal.aborted) {
      await o.body();
      const ranAt = o.clock.now();
      for (;;) {
        const wake = o.wakeAt();
        const due = ranAt + o.intervalMs;
        const at = wake === null ? due : Math.min(due, Math.max(ranAt + o.minSleepMs, wake));
        nap = new AbortController();
        try {
          await o.clock.sleep(Math.max(0, at - o.clock.now()), AbortSignal.any([ctl.signal, nap.signal]));
          break;
        } catch {
          if (ctl.signal.aborted) return;
        }
      }
    }
  })();
  return {
    async stop() {
      ctl.abort(new Error('loop stopped'));
      await done;
    },
    reschedule() {
      nap.abort();
    },
  };
}
