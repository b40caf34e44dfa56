/**
 * Manual resolution with an audit trail: who, when and why go to the alert, its history and the audit
 * log, in one transaction. The resolution is handed to the sink when the firing was (or, where no sink
 * is at hand, e.g. the CLI, marked as owed: the running engine hands it over). Shared by the engine,
 * the HTTP API and the CLI through the alert actions (actions.ts), which write its log line.
 */
import { ProdmonError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { StoredAlert } from '../domain/alert.js';
import type { Repos } from '../store/index.js';
import { publicAlert, readBook } from './plan.js';
import type { TransitionSink } from './transition.js';

/** The longest reason the dashboard's form and JSON API take (characters). */
export const MAX_RESOLUTION_REASON = 1000;

/** A request to resolve an alert by hand. */
export interface ManualResolution {
  id: string;
  reason: string;
  /** The token's name (API) or `cli:<user>` (CLI). */
  actor: string;
  now: number;
  /** Where to hand the resolution over; without one it is marked owed. */
  sink?: TransitionSink<Repos>;
}

/** Resolves an open alert: 400 without a reason, 404 unknown id, 409 already resolved. */
export async function resolveAlert(tx: Repos, r: ManualResolution): Promise<StoredAlert> {
  const reason = typeof r.reason === 'string' ? r.reason.trim() : '';
  if (!reason)
    throw new ProdmonError('PRODMON_E_BAD_REQUEST', 'a reason is required to resolve an alert', {
      exitCode: 2,
    });
  const a = await tx.alerts.get(r.id);
  if (!a) throw new ProdmonError('PRODMON_E_NOT_FOUND', `no alert with id "${r.id}"`);
  if (a.status === 'resolved') {
    const by = a.resolution ? ` by ${a.resolution.by}` : '';
    const at = a.resolvedAt !== null ? ` at ${new Date(a.resolvedAt).toISOString()}` : '';
    throw new ProdmonError('PRODMON_E_CONFLICT', `alert ${a.id} was already resolved${at}${by}`);
  }
  const book = readBook(a);
  const told = book.notify.last !== null;
  const resolved: StoredAlert = {
    ...a,
    status: 'resolved',
    resolvedAt: r.now,
    updatedAt: r.now,
    resolution: { kind: 'manual', by: r.actor, at: r.now, reason },
  };
  const notify = { ...book.notify };
  if (told && !r.sink) notify.notice = 'owed';
  resolved.state = { ...a.state, notify };
  const eventId = newId(r.now, 'ev_');
  if (!(await tx.alerts.updateOpen(resolved))) {
    throw new ProdmonError('PRODMON_E_CONFLICT', `alert ${a.id} was resolved meanwhile`);
  }
  await tx.alerts.addEvent({
    id: eventId,
    alertId: a.id,
    at: r.now,
    kind: 'resolved',
    status: 'resolved',
    severity: a.severity,
    value: a.value,
    threshold: a.threshold,
    actor: r.actor,
    detail: {
      resolution: 'manual',
      reason,
      notified: told && Boolean(r.sink),
      ...(told && !r.sink ? { notice: 'owed' } : {}),
    },
  });
  await tx.audit.append({
    at: r.now,
    actor: r.actor,
    action: 'alert.resolve',
    target: a.id,
    detail: { reason, rule: a.rule, fingerprint: a.fingerprint, severity: a.severity, status: a.status },
  });
  if (told && r.sink) {
    await r.sink.accept(
      tx,
      { id: eventId, kind: 'resolved', alert: publicAlert(resolved), at: r.now },
      r.now,
    );
  }
  return resolved;
}
