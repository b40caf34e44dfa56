/**
 * Long work in bounded slices: `await slicer.pause()` between steps yields to the event loop (through
 * `setImmediate`, so pending I/O and timers run first) once the current slice has run for its budget.
 * What a busy hub does over tens of thousands of series (validating a push, reading and merging an
 * hour of rollups, evaluating every group) then leaves `/health/` and the other requests answering
 * within about one budget, instead of after the whole job.
 */

/** Milliseconds a slice runs before it yields (default). */
export const SLICE_MS = 8;

/** Resolves after pending I/O callbacks and timers have run. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Cuts one job into slices of about `budgetMs` of CPU each. */
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

  /** Yields to the event loop now and starts a new slice. */
  async yield(): Promise<void> {
    await yieldToLoop();
    this.yields++;
    this.#start = performance.now();
  }
}

/**
 * Calls `fn` on every item, yielding between slices; checks the budget every `every` items (the
 * clock read costs more than a cheap step).
 */
export async function eachSliced<T>(
  items: Iterable<T>,
  fn: (item: T, index: number) => void,
  slicer = new Slicer(),
  every = 64,
): Promise<void> {
  let i = 0;
  for (const item of items) {
    fn(item, i);
    i++;
    if (i % every === 0) await slicer.pause();
  }
}
