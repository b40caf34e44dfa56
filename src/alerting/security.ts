/**
 * Counting security events (failed logins, rate-limit hits...) per rule and source over a sliding
 * window, in memory and bounded: each (rule, source) keeps at most 60 time slices of the window, and
 * each rule at most `maxSources` sources (the least recently seen are forgotten first).
 */
import type { Labels } from '../domain/labels.js';
import type { AlertRule } from './rules.js';
import type { SecurityEvent } from './sources.js';

interface Counter {
  /** Slice start -> events. */
  slices: Map<number, number>;
  lastAt: number;
}

/** The group value of an event for a rule's `group_by`. */
export function securityGroup(rule: AlertRule, e: SecurityEvent): Labels {
  if (rule.source.kind !== 'security') return {};
  switch (rule.source.groupBy) {
    case 'none':
      return {};
    case 'ip':
      return { ip: e.ip ?? 'unknown' };
    case 'user':
      return { user: e.user ?? 'unknown' };
    default:
      return { source: e.source ?? e.ip ?? 'unknown' };
  }
}

/** Sliding-window counts of security events per rule and group. */
export class SecurityCounters {
  readonly #rules: AlertRule[];
  readonly #maxSources: number;
  /** rule -> group key -> counter */
  readonly #counts = new Map<string, Map<string, { labels: Labels; c: Counter }>>();

  constructor(rules: readonly AlertRule[], maxSources: number) {
    this.#rules = rules.filter((r) => r.source.kind === 'security');
    this.#maxSources = maxSources;
  }

  /** The security rules. */
  get rules(): readonly AlertRule[] {
    return this.#rules;
  }

  #slice(rule: AlertRule): number {
    return Math.max(1000, Math.floor(rule.windowMs / 60));
  }

  /** Counts an event; returns the names of the rules it counted for. */
  record(e: SecurityEvent, now: number): string[] {
    const hit: string[] = [];
    for (const rule of this.#rules) {
      if (rule.source.kind !== 'security' || !rule.source.kinds.includes(e.kind)) continue;
      hit.push(rule.name);
      const labels = securityGroup(rule, e);
      const key = JSON.stringify(labels);
      const byKey = this.#counts.get(rule.name) ?? new Map<string, { labels: Labels; c: Counter }>();
      this.#counts.set(rule.name, byKey);
      let entry = byKey.get(key);
      if (!entry) {
        if (byKey.size >= this.#maxSources) this.#forgetOldest(byKey);
        entry = { labels, c: { slices: new Map(), lastAt: now } };
        byKey.set(key, entry);
      }
      const width = this.#slice(rule);
      const slice = now - (now % width);
      entry.c.slices.set(slice, (entry.c.slices.get(slice) ?? 0) + 1);
      entry.c.lastAt = now;
      this.#prune(entry.c, rule, now);
    }
    return hit;
  }

  #forgetOldest(byKey: Map<string, { c: Counter }>): void {
    let oldestKey: string | undefined;
    let oldest = Number.POSITIVE_INFINITY;
    for (const [k, v] of byKey) {
      if (v.c.lastAt < oldest) {
        oldest = v.c.lastAt;
        oldestKey = k;
      }
    }
    if (oldestKey !== undefined) byKey.delete(oldestKey);
  }

  #prune(c: Counter, rule: AlertRule, now: number): number {
    const from = now - rule.windowMs;
    const width = this.#slice(rule);
    let total = 0;
    for (const [start, n] of c.slices) {
      if (start + width <= from) c.slices.delete(start);
      else total += n;
    }
    return total;
  }

  /** The count of each group of `rule` over its window ending at `now` (groups at 0 are dropped after). */
  windows(rule: AlertRule, now: number): { labels: Labels; value: number }[] {
    const byKey = this.#counts.get(rule.name);
    if (!byKey) return [];
    const out: { labels: Labels; value: number }[] = [];
    for (const [key, entry] of byKey) {
      const total = this.#prune(entry.c, rule, now);
      out.push({ labels: entry.labels, value: total });
      if (total === 0) byKey.delete(key);
    }
    return out;
  }
}
