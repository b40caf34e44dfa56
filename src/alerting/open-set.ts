/** The engine's view of the open (pending or firing) alerts, by fingerprint and by rule. */
import type { StoredAlert } from '../domain/alert.js';

/** Open alerts indexed by fingerprint and by rule. */
export class OpenAlerts {
  readonly #byFp = new Map<string, StoredAlert>();
  readonly #byRule = new Map<string, Set<string>>();

  /** The open alerts by fingerprint. */
  get map(): ReadonlyMap<string, StoredAlert> {
    return this.#byFp;
  }

  /** How many alerts of `rule` are open. */
  countOf(rule: string): number {
    return this.#byRule.get(rule)?.size ?? 0;
  }

  /** The fingerprints of `rule`'s open alerts (a copy). */
  fingerprintsOf(rule: string): string[] {
    return [...(this.#byRule.get(rule) ?? [])];
  }

  get(fp: string): StoredAlert | undefined {
    return this.#byFp.get(fp);
  }

  values(): IterableIterator<StoredAlert> {
    return this.#byFp.values();
  }

  /** Adds or replaces an open alert. */
  set(a: StoredAlert): void {
    this.#byFp.set(a.fingerprint, a);
    const set = this.#byRule.get(a.rule) ?? new Set<string>();
    this.#byRule.set(a.rule, set);
    set.add(a.fingerprint);
  }

  /** Forgets the alert of a fingerprint. */
  drop(fp: string): void {
    const a = this.#byFp.get(fp);
    if (!a) return;
    this.#byFp.delete(fp);
    this.#byRule.get(a.rule)?.delete(fp);
  }

  clear(): void {
    this.#byFp.clear();
    this.#byRule.clear();
  }

  /**
   * Replaces the view with the stored open alerts, keeping an in-memory copy where it is the same
   * alert and not older (it may hold values not persisted yet). Alerts resolved elsewhere vanish.
   */
  replaceWith(stored: readonly StoredAlert[]): void {
    const next: StoredAlert[] = stored.map((s) => {
      const mem = this.#byFp.get(s.fingerprint);
      return mem && mem.id === s.id && mem.updatedAt >= s.updatedAt ? mem : s;
    });
    this.clear();
    for (const a of next) this.set(a);
  }
}
