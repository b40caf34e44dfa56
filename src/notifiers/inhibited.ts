/** The open alerts that root-cause alerts inhibit, read at sending time so a message lists them all. */
import type { AlertRepo } from '../store/repos/alerts.js';
import type { InhibitedAlert } from './types.js';

/** The key of an alert's metadata naming the alert that inhibits it. */
export const INHIBITED_BY = 'inhibited_by';

/** Who inhibits an alert, as its metadata records it (null: nobody). */
export function inhibitorOf(metadata: Record<string, unknown>): { id: string; rule: string } | null {
  const by = metadata[INHIBITED_BY] as { id?: unknown; rule?: unknown } | null | undefined;
  return by && typeof by.id === 'string' ? { id: by.id, rule: String(by.rule ?? '') } : null;
}

/** A lookup of the open alerts each of some alerts inhibits. */
export function inhibitedBy(
  alerts: Pick<AlertRepo, 'listOpen'>,
): (ids: string[]) => Promise<Map<string, InhibitedAlert[]>> {
  return async (ids) => {
    const wanted = new Set(ids);
    const out = new Map<string, InhibitedAlert[]>();
    for (const a of await alerts.listOpen()) {
      const by = inhibitorOf(a.metadata);
      if (!by || !wanted.has(by.id)) continue;
      const list = out.get(by.id) ?? [];
      list.push({ id: a.id, rule: a.rule, severity: a.severity, labels: a.labels, message: a.message });
      out.set(by.id, list);
    }
    return out;
  };
}
