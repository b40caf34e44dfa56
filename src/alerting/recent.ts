/**
 * Recently resolved alerts, in memory: what a fingerprint that breaches again needs to know without a
 * query per alert — whether it was resolved by hand within the cooldown (it re-fires only after), and
 * when each severity was last told (the cooldown spans incidents). Fed by the engine's own resolutions
 * and by each full tick's scan of resolutions made elsewhere (HTTP in another process, the CLI).
 */
import type { Severity, StoredAlert } from '../domain/alert.js';
import { readBook } from './plan.js';

interface Entry {
  id: string;
  resolvedAt: number;
  manual: boolean;
  notified: Partial<Record<Severity, number>>;
}

/** Resolutions of the last `windowMs` (the cooldown), by fingerprint. */
export class RecentResolutions {
  readonly #byFp = new Map<string, Entry>();

  constructor(private readonly windowMs: number) {}

  /** Remembers a resolved alert (the newest resolution of a fingerprint wins). */
  note(a: StoredAlert): void {
    if (a.status !== 'resolved' || a.resolvedAt === null) return;
    const prev = this.#byFp.get(a.fingerprint);
    if (prev && prev.resolvedAt > a.resolvedAt) return;
    this.#byFp.set(a.fingerprint, {
      id: a.id,
      resolvedAt: a.resolvedAt,
      manual: a.resolution?.kind === 'manual',
      notified: readBook(a).notify.at,
    });
  }

  /** Until when `fp` may not open again (0: it may), and the notification times to carry over. */
  lookup(fp: string, now: number): { until: number; carry?: Partial<Record<Severity, number>> } {
    const e = this.#byFp.get(fp);
    if (!e) return { until: 0 };
    if (e.resolvedAt + this.windowMs <= now) {
      this.#byFp.delete(fp);
      return { until: 0 };
    }
    return { until: e.manual ? e.resolvedAt + this.windowMs : 0, carry: e.notified };
  }

  /** Forgets resolutions older than the window. */
  prune(now: number): void {
    for (const [fp, e] of this.#byFp) if (e.resolvedAt + this.windowMs <= now) this.#byFp.delete(fp);
  }

  get size(): number {
    return this.#byFp.size;
  }
}
