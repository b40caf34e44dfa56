/**
 * A leading-edge trigger with a coalescing window: what starts an alert evaluation when inputs arrive
 * (metric data recorded or pushed, health check results, security events).
 *
 * The first `fire()` after a quiet period runs at once: at the end of the current turn of the event
 * loop, so that what arrives in the same turn (the responses one timer phase completes, the rows of
 * one push, a burst of events from one callback) goes with it, and the caller's code never runs inside
 * the `fire()` of whoever feeds it. A window opens as each run starts; what fires within it waits for
 * the window's end and then runs once, together (the trailing run, which opens the next window). A
 * steady stream thus runs once per window, not once per input, and an input after a quiet period
 * waits for nothing. A run that takes longer than its window holds the next one back until it ends:
 * one run at a time.
 *
 * The trigger decides only *when*: the caller gathers what arrived (a set of metric names, the newest
 * results) and takes it in its run.
 */
import type { Clock } from './clock.js';

/** What a trigger is built from. */
export interface TriggerOptions {
  clock: Clock;
  /**
   * The coalescing window in ms, or a function read as each window opens (a window that follows the
   * cost of the runs).
   */
  windowMs: number | (() => number);
  /** The work; the next run waits until the promise it returns settles. */
  run: () => void | Promise<void>;
  /** Where a run's failure goes (default: dropped; the trigger keeps going). */
  onError?: (err: unknown) => void;
}

/** The end of the current turn of the event loop (after the I/O callbacks and timers of this phase). */
const endOfTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Leading edge at once, then at most one trailing run per window; see the module comment. */
export class Trigger {
  readonly #o: TriggerOptions;
  /** Something fired that no run has taken yet. */
  #pending = false;
  /** The cycle in progress (leading run, windows, trailing runs), by its stop; null: quiet. */
  #cycle: AbortController | null = null;
  /** The current cycle's leading run is waiting for the end of the turn. */
  #soon = false;
  /** The run under way (a stopped cycle's run may still be finishing). */
  #running: Promise<void> | null = null;
  #waiters: (() => void)[] = [];

  constructor(opts: TriggerOptions) {
    this.#o = opts;
  }

  /** Something arrived: runs at once after a quiet period, else at the end of the open window. */
  fire(): void {
    this.#pending = true;
    if (this.#cycle) return;
    const ctl = new AbortController();
    this.#cycle = ctl;
    this.#soon = true;
    void this.#runCycle(ctl.signal).finally(() => {
      if (this.#cycle === ctl) this.#cycle = null;
      this.#check();
    });
  }

  /** Whether a window is open, or a run is scheduled or under way. */
  get busy(): boolean {
    return this.#cycle !== null || this.#running !== null;
  }

  /**
   * Cancels what has not run yet: the trailing run of the open window (and a leading one still
   * waiting for the end of the turn). A run under way finishes; a later `fire()` starts afresh.
   */
  stop(): void {
    this.#pending = false;
    this.#soon = false;
    this.#cycle?.abort();
    this.#cycle = null;
    this.#check();
  }

  /**
   * Resolves once no run is scheduled at once or under way (the leading run of what fired has ended).
   * A trailing run waiting for its window is not waited for: that needs the clock to move.
   */
  settled(): Promise<void> {
    if (this.#idle()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async #runCycle(signal: AbortSignal): Promise<void> {
    await endOfTurn();
    // A run of a stopped cycle still under way: this cycle's leading run comes after it.
    while (this.#running) await this.#running;
    while (!signal.aborted && this.#pending) {
      this.#pending = false;
      const windowEnd = this.#o.clock.sleep(this.#window(), signal).then(
        () => true,
        () => false,
      );
      const run = this.#run();
      this.#running = run;
      this.#soon = false; // (not stopped: this is the current cycle)
      await run;
      if (this.#running === run) this.#running = null;
      this.#check();
      if (!(await windowEnd)) return;
    }
  }

  async #run(): Promise<void> {
    try {
      await this.#o.run();
    } catch (err) {
      try {
        this.#o.onError?.(err);
      } catch {
        // an error handler's failure is its own
      }
    }
  }

  #window(): number {
    const w = typeof this.#o.windowMs === 'function' ? this.#o.windowMs() : this.#o.windowMs;
    return Number.isFinite(w) && w > 0 ? w : 0;
  }

  #idle(): boolean {
    return !this.#soon && this.#running === null;
  }

  #check(): void {
    if (!this.#idle()) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}
