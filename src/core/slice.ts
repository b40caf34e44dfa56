/**
 * Long work in bounded slices: `await slicer.pause()` between steps yields to the event loop once the
 * current slice has run for its budget. What a busy hub does over tens of thousands of series
 * (validating and storing pushes, reading and merging an hour of rollups, evaluating every group)
 * then leaves `/health/` and the other requests answering within about one budget, instead of after
 * the whole job.
 *
 * The jobs that yield take turns, one slice per turn of the event loop: a job that yields waits in
 * one queue, and each turn (a `setImmediate`, so the loop polls for I/O and runs due timers in
 * between) resumes the next one. Twenty pushes being stored at once thus cost a request that arrives
 * meanwhile one slice, not twenty (`setImmediate` alone would run every waiting job's next slice in
 * the same turn).
 */

/** Milliseconds a slice runs before it yields (default). */
export const SLICE_MS = 8;

const waiting: (() => void)[] = [];
let turnScheduled = false;

function nextTurn(): void {
  turnScheduled = false;
  const resume = waiting.shift();
  if (waiting.length > 0) {
    turnScheduled = true;
    setImmediate(nextTurn);
  }
  resume?.();
}

/**
 * Resolves on a later turn of the event loop, after pending I/O callbacks and timers have run and
 * after the jobs that yielded earlier have had their turn.
 */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (!turnScheduled) {
      turnScheduled = true;
      setImmediate(nextTurn);
    }
  });
}

/** Cuts one job into slices of about `budgetMs` each. */
export class Slicer {
  readonly #budgetMs: number;
  #start = performance.now();
  /** Times this job yielded (for tests and benchmarks). */
  yields = 0;

  constructor(budgetMs = SLICE_MS) {
    this.#budgetMs = budgetMs;
  }

  /** Whether the current slice has used its budget. */
  get due(): boolean {
    return performance.now() - this.#start >= this.#budgetMs;
  }

  /** Yields to the event loop when the slice has used its budget; otherwise returns at once. */
  pause(): Promise<void> | undefined {
    if (!this.due) return undefined;
    return this.yield();
  }

  /** Yields to the event loop now and starts a new slice when resumed. */
  async yield(): Promise<void> {
    await yieldToLoop();
    this.yields++;
    this.#start = performance.now();
  }
}
