/**
 * Committing plans: each alert change with its history events and its hand-over to the sink, in one
 * transaction. Plans are written in batches (one transaction per batch); when a batch fails, its
 * plans are retried one by one, so one bad plan (a failing sink, a conflicting insert) does not hold
 * back the others. An update of an alert resolved elsewhere meanwhile is skipped ("gone").
 */
import type { Repos, Store } from '../store/index.js';
import type { Plan } from './plan.js';
import type { TransitionSink } from './transition.js';

/** Plans per transaction. */
const BATCH = 200;

/** What happened to each plan. */
export interface CommitResult {
  committed: Plan[];
  /** Updates of alerts no longer open in the store (resolved by hand meanwhile): not written. */
  gone: Plan[];
  failed: { plan: Plan; err: unknown }[];
}

async function commitBatch(
  store: Store,
  sink: TransitionSink<Repos>,
  plans: Plan[],
  out: CommitResult,
): Promise<void> {
  try {
    const gone = new Set<Plan>();
    await store.transaction(async (tx) => {
      for (const p of plans) {
        if (p.insert) await tx.alerts.insert(p.alert);
        else if (!(await tx.alerts.updateOpen(p.alert))) gone.add(p);
      }
      const kept = plans.filter((p) => !gone.has(p));
      await tx.alerts.addEvents(kept.flatMap((p) => p.events));
      for (const p of kept) if (p.transition) await sink.accept(tx, p.transition, p.transition.at);
    });
    for (const p of plans) (gone.has(p) ? out.gone : out.committed).push(p);
  } catch (err) {
    if (plans.length === 1) {
      out.failed.push({ plan: plans[0]!, err });
      return;
    }
    for (const p of plans) await commitBatch(store, sink, [p], out);
  }
}

/** Writes the plans that need writing; plans that only change memory count as committed. */
export async function commitPlans(
  store: Store,
  sink: TransitionSink<Repos>,
  plans: readonly Plan[],
): Promise<CommitResult> {
  const out: CommitResult = { committed: [], gone: [], failed: [] };
  const writes: Plan[] = [];
  for (const p of plans) (p.persist ? writes : out.committed).push(p);
  for (let i = 0; i < writes.length; i += BATCH)
    await commitBatch(store, sink, writes.slice(i, i + BATCH), out);
  return out;
}
