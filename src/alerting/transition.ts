/**
 * The hand-over from the alert engine to the notification pipeline: one `AlertTransition` per change
 * worth telling someone about. The engine decides *whether* to notify (dedup, cooldown, silences,
 * maintenance); the pipeline decides *where* (routing) and delivers durably (outbox).
 */

import type { AlertTransition } from '../domain/transition.js';

/**
 * The first stage of the notification pipeline. Called inside the transaction that stores the
 * transition, so the outbox rows are written with it, or not at all. `Tx` is that transaction as the
 * sink needs it (the notification sink: the outbox); the engine hands over its own.
 */
export interface TransitionSink<Tx = unknown> {
  accept(tx: Tx, t: AlertTransition, now: number): Promise<void>;
  /**
   * Holds back delivery of what is accepted until the returned release is called: the engine holds
   * for one evaluation pass, so the transitions it creates together go out together.
   */
  hold?(): () => void;
}
