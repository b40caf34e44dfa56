/**
 * Which pending items of a channel go now, and how (pure). Items of one alert go in the order they were
 * written (a resolution never overtakes its firing); alerts take turns by how long they have waited.
 */
import type { OutboxItem } from '../../domain/outbox.js';

const alertKey = (i: OutboxItem) => i.alertId ?? i.id;

/**
 * The due items of one channel (input: that channel's pending items, oldest first), in send order, and
 * the earliest time a waiting one becomes due. An item that is not due holds back the later items of the
 * same alert.
 */
export function selectDue(
  items: readonly OutboxItem[],
  now: number,
): { due: OutboxItem[]; waitUntil?: number } {
  const blocked = new Set<string>();
  const groups = new Map<string, OutboxItem[]>();
  let waitUntil: number | undefined;
  for (const item of items) {
    const key = alertKey(item);
    if (blocked.has(key)) continue;
    if (item.nextAttemptAt > now) {
      blocked.add(key);
      waitUntil = waitUntil === undefined ? item.nextAttemptAt : Math.min(waitUntil, item.nextAttemptAt);
      continue;
    }
    const g = groups.get(key) ?? [];
    g.push(item);
    groups.set(key, g);
  }
  const ordered = [...groups.values()].sort(
    (a, b) => Math.min(...a.map((i) => i.nextAttemptAt)) - Math.min(...b.map((i) => i.nextAttemptAt)),
  );
  return { due: ordered.flat(), ...(waitUntil !== undefined ? { waitUntil } : {}) };
}

/**
 * How the due items go: one by one while the budget (`free` messages now) allows, or, when more are
 * due than that and the channel can batch, as one batch of at most `batchMax`.
 */
export function planUnits(due: readonly OutboxItem[], free: number, batchMax: number): OutboxItem[][] {
  if (due.length === 0 || free <= 0) return [];
  if (batchMax > 1 && due.length > free) return [due.slice(0, batchMax)];
  return due.slice(0, Number.isFinite(free) ? free : due.length).map((i) => [i]);
}

/** The key grouping items of one alert. */
export { alertKey };
