/** A background loop on a Clock: run, sleep, repeat, until stopped. Errors go to `onError`, never out. */
import type { Clock } from './clock.js';

/** A running loop. */
export interface Loop {
  /** Runs the body now (between ticks), unless a run is in progress; resolves when done. */
  trigger(): Promise<void>;
  /** Stops after the current run; resolves when the loop has ended. */
  stop(): Promise<void>;
  /** Time the last run ended (null before the first). */
  readonly lastRunAt: number | null;
}

/** Starts `body` every `intervalMs` (after each run ends) on `clock`. */
export function startLoop(opts: {
  clock: Clock;
  intervalMs: number;
  body: (signal: AbortSignal) => Promise<void>;
  onError: (err: unknown) => void;
  /** Run once immediately (default true). */
  immediate?: boolean;
}): Loop {
  const ctl = new AbortController();
  let running: Promise<void> | null = null;
  let lastRunAt: number | null = null;
  let wake: AbortController | null = null;

  const runOnce = (): Promise<void> => {
    if (running) return running;
    running = (async () => {
      try {
        await opts.body(ctl.signal);
      } catch (err) {
        if (!ctl.signal.aborted) opts.onError(err);
      } finally {
        lastRunAt = opts.clock.now();
        running = null;
      }
    })();
    return running;
  };

  const done = (async () => {
    if (opts.immediate !== false) await runOnce();
    while (!ctl.signal.aborted) {
      wake = new AbortController();
      const both = AbortSignal.any([ctl.signal, wake.signal]);
      try {
        await opts.clock.sleep(opts.intervalMs, both);
      } catch {
        if (ctl.signal.aborted) break;
        continue; // woken early by trigger(): the trigger runs the body itself
      }
      await runOnce();
    }
  })();

  return {
    trigger: () => runOnce(),
    async stop() {
      ctl.abort(new Error('loop stopped'));
      await done;
      if (running) await running;
    },
    get lastRunAt() {
      return lastRunAt;
    },
  };
}
