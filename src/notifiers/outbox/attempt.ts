/** One delivery attempt: the notifier's send under a per-attempt timeout on the Clock. */
import type { Clock } from '../../core/clock.js';
import { formatDuration } from '../../core/duration.js';
import { errorMessage } from '../../core/errors.js';
import type { OutboxItem } from '../../domain/outbox.js';
import { notificationFromItem } from '../message.js';
import type { Notification, Notifier, SendOutcome } from '../types.js';

/** What came of an attempt. */
export interface Attempt {
  outcome: SendOutcome;
  /** Wall time the attempt took. */
  durationMs: number;
  /** The worker is stopping: the attempt was cut short and must not be recorded. */
  interrupted: boolean;
}

/** A promise that settles as a retryable failure when `signal` aborts (for notifiers that ignore it). */
function aborted(signal: AbortSignal): Promise<SendOutcome> {
  return new Promise((resolve) => {
    const done = () =>
      resolve({
        ok: false,
        retryable: true,
        reason: signal.reason instanceof Error ? signal.reason.message : 'aborted',
      });
    if (signal.aborted) done();
    else signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Sends `items` (one, or a batch when the notifier can) and waits at most `timeoutMs` of the clock's
 * time; a notifier that throws or ignores the abort still gives a retryable outcome.
 */
export function attemptSend(
  notifier: Notifier,
  items: OutboxItem[],
  o: { clock: Clock; timeoutMs: number; stop: AbortSignal },
): Promise<Attempt> {
  return attemptNotifications(notifier, items.map(notificationFromItem), o);
}

/** {@link attemptSend} of notifications built elsewhere (the direct path that needs no store). */
export function attemptNotifications(
  notifier: Notifier,
  ns: Notification[],
  o: { clock: Clock; timeoutMs: number; stop: AbortSignal },
): Promise<Attempt> {
  return attempt(
    (signal) =>
      ns.length > 1 && notifier.sendBatch ? notifier.sendBatch(ns, signal) : notifier.send(ns[0]!, signal),
    o,
  );
}

/** Runs one send under the attempt timeout (see `attemptSend`). */
export async function attempt(
  send: (signal: AbortSignal) => Promise<SendOutcome>,
  o: { clock: Clock; timeoutMs: number; stop: AbortSignal },
): Promise<Attempt> {
  const timeout = new AbortController();
  const timerDone = new AbortController();
  const timeoutReason = `timed out after ${formatDuration(o.timeoutMs)}`;
  o.clock.sleep(o.timeoutMs, AbortSignal.any([timerDone.signal, o.stop])).then(
    () => timeout.abort(new Error(timeoutReason)),
    () => {},
  );
  const signal = AbortSignal.any([timeout.signal, o.stop]);
  const started = performance.now();
  let outcome: SendOutcome;
  try {
    outcome = await Promise.race([send(signal), aborted(signal)]);
  } catch (err) {
    outcome = { ok: false, retryable: true, reason: `notifier error: ${errorMessage(err)}` };
  } finally {
    timerDone.abort();
  }
  if (!outcome.ok && timeout.signal.aborted) outcome = { ...outcome, retryable: true, reason: timeoutReason };
  return {
    outcome,
    durationMs: Math.round((performance.now() - started) * 100) / 100,
    interrupted: o.stop.aborted && !outcome.ok,
  };
}
