/**
 * When the groups of a channel go (pure), after Alertmanager's aggregation groups: the first
 * notification of a group goes at once (after `group_wait`, 0 by default), and what follows within
 * `group_interval` of a group message waits for the next one, which carries it all. A group message
 * claims its rows before it is sent; a claimed message is retried as it is (same id, same members).
 * Each alert's rows go in order: only an alert's oldest pending row can join a message.
 */
import type { OutboxItem } from '../../domain/outbox.js';
import { alertKey } from './plan.js';

/** The timing of grouped delivery. */
export interface GroupTiming {
  waitMs: number;
  intervalMs: number;
}

/** A group message to send now: a claimed one again, or a new one of a group. */
export type GroupUnit = { batchId: string; key: string } | { batchId: null; key: string };

/** The oldest pending row of each alert among `rows` (oldest first). */
export function firstPerAlert(rows: readonly OutboxItem[]): OutboxItem[] {
  const seen = new Set<string>();
  const out: OutboxItem[] = [];
  for (const r of rows) {
    const a = alertKey(r);
    if (seen.has(a)) continue;
    seen.add(a);
    out.push(r);
  }
  return out;
}

/** The rows a new message of a group takes: each alert's oldest pending row, if unclaimed. */
export function claimable(rows: readonly OutboxItem[], blocked: ReadonlySet<string>): OutboxItem[] {
  return firstPerAlert(rows).filter((r) => !r.batchId && !blocked.has(alertKey(r)));
}

/**
 * The group messages of one channel due at `now` (input: its pending grouped rows, oldest first), and
 * the earliest time a waiting one becomes due. Held groups (an evaluation pass still writing them)
 * wait for their release, which wakes the worker.
 */
export function planGroups(
  rows: readonly OutboxItem[],
  now: number,
  o: GroupTiming & {
    lastMessage(key: string): number | null;
    held(key: string): boolean;
    blocked: ReadonlySet<string>;
  },
): { units: GroupUnit[]; waitUntil?: number } {
  const units: GroupUnit[] = [];
  const batches = new Set<string>();
  const groups = new Set<string>();
  let waitUntil: number | undefined;
  const wait = (t: number) => {
    waitUntil = waitUntil === undefined ? t : Math.min(waitUntil, t);
  };
  for (const r of firstPerAlert(rows)) {
    const key = r.groupKey ?? '';
    if (r.batchId) {
      if (batches.has(r.batchId)) continue;
      if (r.nextAttemptAt > now) wait(r.nextAttemptAt);
      else {
        batches.add(r.batchId);
        units.push({ batchId: r.batchId, key });
      }
      continue;
    }
    if (groups.has(key) || o.blocked.has(alertKey(r)) || o.held(key)) continue;
    const last = o.lastMessage(key);
    const dueAt = Math.max(r.nextAttemptAt, r.createdAt + o.waitMs, last === null ? 0 : last + o.intervalMs);
    if (dueAt > now) wait(dueAt);
    else {
      groups.add(key);
      units.push({ batchId: null, key });
    }
  }
  return { units, ...(waitUntil !== undefined ? { waitUntil } : {}) };
}
