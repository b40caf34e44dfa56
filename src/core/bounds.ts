/** Bounds on times taken from users (HTTP API, CLI): what a `Date` can show and a store column hold. */

/** The latest time taken from anyone: the last millisecond of the year 9999. */
export const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Whether `t` is a time from 1970 to 9999 (ms since the epoch). */
export function inTimeRange(t: number): boolean {
  return Number.isFinite(t) && t >= 0 && t <= MAX_TIME_MS;
}
