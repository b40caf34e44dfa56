/**
 * Cron schedules read with croner, used only to compute times: the scheduler sleeps on the injected
 * Clock itself, so schedules are testable on a FakeClock (DST changes included: croner resolves a
 * time that does not exist or exists twice in the zone to a single run).
 */
import { Cron } from 'croner';

/** A compiled schedule. */
export interface Schedule {
  readonly pattern: string;
  readonly timezone: string | undefined;
  /** The first run strictly after `after` (ms), or null if there is none. */
  next(after: number): number | null;
  /** The last run at or before `at` (ms), or null. */
  previous(at: number): number | null;
}

/** Compiles `pattern` (5 or 6 fields) in `timezone` (default: the machine's); throws on a bad one. */
export function compileSchedule(pattern: string, timezone?: string): Schedule {
  // No callback: croner computes times only and never starts a timer of its own.
  const cron = new Cron(pattern, { timezone, paused: true });
  return {
    pattern,
    timezone,
    next(after) {
      return cron.nextRun(new Date(after))?.getTime() ?? null;
    },
    previous(at) {
      // previousRuns is strict for earlier seconds; a run in the same second as `at` counts as previous.
      const [p] = cron.previousRuns(1, new Date(at + 1));
      return p && p.getTime() <= at ? p.getTime() : null;
    },
  };
}

/** The next `n` run times after `after`. */
export function nextRuns(s: Schedule, after: number, n: number): number[] {
  const out: number[] = [];
  let t = after;
  for (let i = 0; i < n; i++) {
    const next = s.next(t);
    if (next === null) break;
    out.push(next);
    t = next;
  }
  return out;
}
