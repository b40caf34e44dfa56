/** Retry timing (pure): exponential backoff with jitter, bounded by the policy and the item's deadline. */

/** The outbox's delivery policy (from `notifications.outbox`), in ms. */
export interface DeliveryPolicy {
  minBackoff: number;
  maxBackoff: number;
  /** Give up on an item this old. */
  maxAge: number;
  attemptTimeout: number;
}

/**
 * Delay before attempt `attempts + 1` after `attempts` failures: `min * 2^(attempts-1)` capped at `max`,
 * times a jitter factor in [0.8, 1.2) from `random` (kept within [min, max]).
 */
export function backoffDelay(attempts: number, policy: DeliveryPolicy, random: number): number {
  const exp = policy.minBackoff * 2 ** Math.max(0, Math.min(attempts - 1, 40));
  const base = Math.min(policy.maxBackoff, exp);
  const jittered = base * (0.8 + 0.4 * random);
  return Math.round(Math.min(policy.maxBackoff, Math.max(policy.minBackoff, jittered)));
}

/** What to do after a failed attempt. */
export type RetryDecision = { give: 'up' } | { give: 'retry'; at: number };

/**
 * After failure number `attempts` at `now` of an item created at `createdAt`: retry after the backoff (or
 * the receiver's Retry-After if longer), but never past the deadline `createdAt + maxAge`, where one last
 * attempt is made; past the deadline, give up.
 */
export function nextAttempt(
  o: { attempts: number; createdAt: number; now: number; retryAfterMs?: number },
  policy: DeliveryPolicy,
  random: number,
): RetryDecision {
  const deadline = o.createdAt + policy.maxAge;
  if (o.now >= deadline) return { give: 'up' };
  const delay = Math.max(backoffDelay(o.attempts, policy, random), o.retryAfterMs ?? 0);
  return { give: 'retry', at: Math.min(o.now + delay, deadline) };
}
