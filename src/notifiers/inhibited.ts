/** The open alerts that root-cause alerts inhibit, read at sending time so a message lists them all. */
import { inhibitorOf } from '../alerting/inhibit.js';
import type { AlertRepository } from '../alerting/repository.js';
import type { InhibitedAlert } from './types.js';

/** A lookup of the open alerts each of some alerts inhibits. */
export function inhibitedBy(
  alerts: Pick<AlertRepository, 'listOpen'>,
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
