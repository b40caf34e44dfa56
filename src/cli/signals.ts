/**
 * Signals that arrive while the CLI is still loading (before `start` can install its handlers) are
 * captured here, so a SIGTERM during start-up still means a graceful stop rather than a kill.
 */
const pending: NodeJS.Signals[] = [];
const capture = (sig: NodeJS.Signals) => {
  pending.push(sig);
};

/** Starts capturing SIGINT/SIGTERM (call first thing in the entry, before loading anything heavy). */
export function captureEarlySignals(): void {
  process.on('SIGINT', capture);
  process.on('SIGTERM', capture);
}

/** Stops capturing and returns the signals received so far. */
export function takeEarlySignals(): NodeJS.Signals[] {
  process.off('SIGINT', capture);
  process.off('SIGTERM', capture);
  return pending.splice(0);
}
