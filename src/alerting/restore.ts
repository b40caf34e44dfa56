/**
 * Resuming after downtime and handing over what another process left owed. On start the open alerts
 * get their staleness clock restarted (time nobody watched is unknown, not "no data"); after a gap
 * each gets a `gap` event and pending ones must be seen breaching for their whole `for` again.
 */

import type { StoredAlert } from '../domain/alert.js';
import type { Repos, Store } from '../store/index.js';
import { publicAlert, readBook } from './plan.js';
import type { TransitionSink } from './transition.js';

/** State key of the time of the last full evaluation (to detect gaps after downtime). */
export const LAST_EVALUATION_KEY = 'alerting.last_evaluation_at';

/** A stretch of time during which nobody evaluated. */
export interface Gap {
  from: number;
  to: number;
}

/** Prepares the stored open alerts for a resumed engine; returns the gap, if there was one. */
export async function restoreOpenAlerts(
  store: Store,
  now: number,
  gapAfterMs: number,
): Promise<{ gap: Gap | null; open: number }> {
  const last = await store.state.get<number>(LAST_EVALUATION_KEY);
  const gap = typeof last === 'number' && now - last > gapAfterMs ? { from: last, to: now } : null;
  const open = await store.alerts.listOpen();
  if (open.length === 0) return { gap, open: 0 };
  await store.transaction(async (tx) => {
    for (const a of open) {
      const book = readBook(a);
      const ev = { ...book.eval, lastDataAt: Math.max(book.eval.lastDataAt, now) };
      if (gap && ev.status === 'pending') {
        if (ev.breachSince !== null) ev.breachSince = now;
        if (ev.criticalSince !== null) ev.criticalSince = now;
      }
      await tx.alerts.updateOpen({ ...a, updatedAt: now, state: { ...a.state, eval: ev, persistedAt: now } });
      if (!gap) continue;
      await tx.alerts.addEvent({
        id: `${a.id}:gap:${now}`,
        alertId: a.id,
        at: now,
        kind: 'gap',
        status: a.status,
        severity: a.severity,
        value: null,
        threshold: a.threshold,
        actor: null,
        detail: {
          from: gap.from,
          to: gap.to,
          note: 'prodmon was not evaluating: the state during the gap is unknown',
        },
      });
    }
  });
  return { gap, open: open.length };
}

/**
 * Hands over the resolutions that a process without a sink (the CLI) marked owed, among `resolved`;
 * returns the alerts handed over.
 */
export async function handOverOwed(
  store: Store,
  sink: TransitionSink<Repos>,
  resolved: readonly StoredAlert[],
  now: number,
): Promise<StoredAlert[]> {
  const done: StoredAlert[] = [];
  for (const a of resolved) {
    const book = readBook(a);
    if (book.notify.notice !== 'owed') continue;
    const events = await store.alerts.events(a.id);
    const resolvedEvent = [...events].reverse().find((e) => e.kind === 'resolved');
    const { notice: _owed, ...notify } = book.notify;
    await store.transaction(async (tx) => {
      await tx.alerts.update({ ...a, state: { ...a.state, notify } });
      const id = resolvedEvent?.id ?? `${a.id}:resolved`;
      await sink.accept(tx, { id, kind: 'resolved', alert: publicAlert(a), at: now }, now);
    });
    done.push(a);
  }
  return done;
}
