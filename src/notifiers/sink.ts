/**
 * The first stage of the notification pipeline: called by the alert engine inside the transaction that
 * stores a transition, it routes the transition and writes one outbox row per channel, keyed
 * `${transition.id}:${channel}` (a unique key: no code path can write a second one).
 */

import type { TransitionSink } from '../alerting/transition.js';
import type { AlertTransition } from '../domain/transition.js';
import { groupOf } from './group.js';
import { transitionPayload } from './message.js';
import type { GroupHolds } from './outbox/holds.js';
import type { OutboxRepository } from './outbox/repository.js';
import { type RouteChannel, route } from './routing.js';

/** The transaction the sink writes in: the outbox, and a hook run once it has committed. */
export interface SinkTx {
  outbox: OutboxRepository;
  afterCommit(fn: () => void): void;
}

/** The outbox key of a transition on a channel. */
export const outboxKey = (transitionId: string, channel: string): string => `${transitionId}:${channel}`;

/** Options of the sink. */
export interface SinkOptions {
  channels: readonly RouteChannel[];
  /** Link to an alert on the dashboard (null when `server.public_url` is not set). */
  link: (alertId: string) => string | null;
  /**
   * Told the keys enqueued once their transaction has committed (not at all after a rollback), so the
   * worker wakes now, when it can see them, instead of at its next tick.
   */
  onEnqueued?: (keys: string[]) => void;
  /** Group notifications per rule (and these labels) and channel; null or absent: one message each. */
  grouping?: { groupBy: readonly string[] } | null;
  /** Where the groups written during an evaluation pass are held until the pass ends. */
  holds?: GroupHolds;
}

/** Routes transitions to channels and writes them to the outbox (in the caller's transaction). */
export class NotificationSink implements TransitionSink<SinkTx> {
  readonly #opts: SinkOptions;

  constructor(opts: SinkOptions) {
    this.#opts = opts;
  }

  /** Writes the outbox rows of `t`; returns the keys added (none when the transition goes nowhere). */
  async accept(tx: SinkTx, t: AlertTransition, now: number): Promise<void> {
    await this.enqueue(tx, t, now);
  }

  /**
   * Holds back the groups written to until the returned release is called (the engine holds for
   * one evaluation pass, so a storm it creates goes out as one message per group and channel).
   */
  hold(): () => void {
    return this.#opts.holds?.hold() ?? (() => {});
  }

  /** Same as `accept`, returning the keys written. */
  async enqueue(tx: SinkTx, t: AlertTransition, now: number): Promise<string[]> {
    const told = new Set<string>();
    if (t.kind === 'resolved' || t.kind === 'deescalated') {
      for (const item of await tx.outbox.forAlert(t.alert.id)) told.add(item.channel);
    }
    const targets = route(t, this.#opts.channels, told);
    if (targets.length === 0) return [];
    const grouping = this.#opts.grouping;
    const group = grouping ? groupOf(t, grouping.groupBy) : null;
    const payload = { ...transitionPayload(t, this.#opts.link(t.alert.id)), ...(group ? { group } : {}) };
    const added: string[] = [];
    for (const channel of targets) {
      const key = outboxKey(t.id, channel);
      const ok = await tx.outbox.enqueue({
        key,
        alertId: t.alert.id,
        transition: t.kind,
        channel,
        payload: payload as unknown as Record<string, unknown>,
        now,
        groupKey: group?.key ?? null,
      });
      if (ok) added.push(key);
    }
    if (group && added.length > 0) this.#opts.holds?.note(group.key);
    const wake = this.#opts.onEnqueued;
    // A held group goes when its hold is released, which wakes the worker: a scan at the commit would
    // find it held, and only hold up the scan that can send it.
    const held = group !== null && (this.#opts.holds?.isHeld(group.key) ?? false);
    if (added.length > 0 && wake && !held) tx.afterCommit(() => wake(added));
    return added;
  }
}
