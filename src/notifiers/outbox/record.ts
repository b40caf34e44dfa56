/** Recording one attempt: the delivery log line and the items' new state, in one transaction. */

import type { OutboxItem } from '../../domain/outbox.js';
import type { Store } from '../../store/index.js';
import type { SendOutcome } from '../types.js';
import { type DeliveryPolicy, nextAttempt } from './backoff.js';

/** What became of the items. */
export interface RecordResult {
  delivered: number;
  dead: number;
  failed: number;
  /** Earliest next attempt of the items still pending (null when none). */
  retryAt: number | null;
}

/**
 * Logs the attempt for each item and moves it on: delivered; pending with the next attempt time
 * (backoff, Retry-After, deadline); dead past `max_age`; failed on a permanent error.
 */
export async function recordOutcome(
  store: Pick<Store, 'transaction'>,
  items: readonly OutboxItem[],
  outcome: SendOutcome,
  o: { now: number; durationMs: number; policy: DeliveryPolicy; random: () => number; reason: string | null },
): Promise<RecordResult> {
  const r: RecordResult = { delivered: 0, dead: 0, failed: 0, retryAt: null };
  await store.transaction(async (tx) => {
    for (const item of items) {
      const attempts = item.attempts + 1;
      await tx.outbox.recordDelivery({
        outboxId: item.id,
        at: o.now,
        ok: outcome.ok,
        statusCode: outcome.statusCode ?? null,
        error: o.reason,
        durationMs: o.durationMs,
      });
      const base = { attempts, now: o.now, lastError: o.reason };
      if (outcome.ok) {
        r.delivered++;
        await tx.outbox.setState(item.id, {
          ...base,
          status: 'delivered',
          nextAttemptAt: item.nextAttemptAt,
        });
      } else if (!outcome.retryable) {
        r.failed++;
        await tx.outbox.setState(item.id, { ...base, status: 'failed', nextAttemptAt: item.nextAttemptAt });
      } else {
        const next = nextAttempt(
          { attempts, createdAt: item.createdAt, now: o.now, retryAfterMs: outcome.retryAfterMs },
          o.policy,
          o.random(),
        );
        if (next.give === 'up') {
          r.dead++;
          await tx.outbox.setState(item.id, { ...base, status: 'dead', nextAttemptAt: item.nextAttemptAt });
        } else {
          r.retryAt = r.retryAt === null ? next.at : Math.min(r.retryAt, next.at);
          await tx.outbox.setState(item.id, { ...base, status: 'pending', nextAttemptAt: next.at });
        }
      }
    }
  });
  return r;
}
