/**
 * The one way tests wait for something to happen: poll a condition until it gives a truthy value, and fail
 * after a deadline with what was awaited and what the condition last gave.
 *
 * The deadline is a bound on a failing test, not a measurement: keep it generous (a loaded machine runs
 * the suite too), and never let a passing test depend on it.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { inspect } from 'node:util';

export interface WaitOptions {
  /** How long to wait before failing, in ms (default 10 000). */
  timeout?: number;
  /** Pause between two calls of the condition, in ms (default 10). */
  interval?: number;
  /** What is awaited, for the error; a function is called when the wait fails (to describe the state then). */
  what?: string | (() => string);
}

/** Error of a wait that ran out of time. */
export class WaitTimeout extends Error {
  override name = 'WaitTimeout';
  constructor(
    message: string,
    /** The condition's last value. */
    readonly last: unknown,
  ) {
    super(message);
  }
}

const show = (v: unknown): string => {
  const s = typeof v === 'string' ? JSON.stringify(v) : inspect(v, { depth: 3, breakLength: Infinity });
  return s.length > 800 ? `${s.slice(0, 800)}… (${s.length} chars)` : s;
};

/**
 * Calls `condition` until it returns (or resolves to) a truthy value, and returns that value. An error the
 * condition throws ends the wait at once (throw to fail fast, e.g. when the awaited process exited). After
 * `timeout` ms, rejects with a {@link WaitTimeout} naming `what` and the condition's last value.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  opts: WaitOptions = {},
): Promise<Exclude<T, false | 0 | '' | null | undefined>> {
  const timeout = opts.timeout ?? 10_000;
  const interval = opts.interval ?? 10;
  if (!(timeout >= 0)) throw new RangeError(`waitFor: timeout must be a number of ms >= 0, got ${timeout}`);
  if (!(interval >= 0))
    throw new RangeError(`waitFor: interval must be a number of ms >= 0, got ${interval}`);
  const end = performance.now() + timeout;
  let last: unknown;
  let calls = 0;
  for (;;) {
    // Read before the call, so one last try always comes after the deadline (a loaded machine may have
    // kept this loop asleep past it while the awaited thing happened).
    const late = performance.now() >= end;
    calls++;
    last = await condition();
    if (last) return last as Exclude<T, false | 0 | '' | null | undefined>;
    if (late) break;
    await delay(interval);
  }
  const what = typeof opts.what === 'function' ? opts.what() : (opts.what ?? 'the condition');
  throw new WaitTimeout(
    `timed out after ${timeout} ms (${calls} tries) waiting for ${what}; the condition last gave ${show(last)}`,
    last,
  );
}
