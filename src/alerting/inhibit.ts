/**
 * Inhibition (after Alertmanager's `inhibit_rules`): while a firing alert matches an inhibit rule's
 * `source` (a failing database check), the open alerts matching its `target` (latency and error-rate
 * alerts) whose `equal` labels have the same values are inhibited: evaluated, stored and shown as
 * usual, marked with who inhibits them, but not notified. One root cause pages once, and its message
 * lists what it suppresses. When the source stops firing, a target still firing is notified at its
 * next evaluation. An alert never inhibits itself, and an alert matching both sides of a rule is not
 * inhibited by another that does.
 */
import type { InhibitRuleConfig } from '../config/sections/alerting.js';
import type { AlertType, Severity, StoredAlert } from '../domain/alert.js';
import type { Labels } from '../domain/labels.js';

/** The key of an alert's metadata naming the alert that inhibits it. */
export const INHIBITED_BY = 'inhibited_by';

/** What an inhibit rule side matches on. */
export interface InhibitTarget {
  rule: string;
  type: AlertType;
  severity: Severity;
  labels: Labels;
  fingerprint: string;
}

/** The alert that inhibits another, as the inhibited alert records it (metadata `inhibited_by`). */
export interface InhibitSource {
  id: string;
  rule: string;
  labels: Labels;
  /** The inhibit rule's name (default `inhibit_rules[<index>]`). */
  by: string;
}

/** Who inhibits an alert, as its metadata records it (null: nobody). */
export function inhibitorOf(metadata: Record<string, unknown>): InhibitSource | null {
  const by = metadata[INHIBITED_BY] as Partial<InhibitSource> | null | undefined;
  if (!by || typeof by.id !== 'string') return null;
  return { id: by.id, rule: String(by.rule ?? ''), labels: by.labels ?? {}, by: String(by.by ?? '') };
}

type Matchers = InhibitRuleConfig['source'];

/** Whether an alert matches one side of an inhibit rule. */
export function matchesSide(m: Matchers, a: Omit<InhibitTarget, 'fingerprint'>): boolean {
  if (m.rules && !m.rules.includes(a.rule)) return false;
  if (m.types && !m.types.includes(a.type)) return false;
  if (m.severities && !m.severities.includes(a.severity)) return false;
  for (const [k, v] of Object.entries(m.labels ?? {})) if (a.labels[k] !== v) return false;
  return true;
}

interface Compiled {
  name: string;
  rule: InhibitRuleConfig;
}

/** The configured inhibit rules, applied to an engine's open alerts. */
export class Inhibition {
  readonly #rules: Compiled[];

  constructor(rules: readonly InhibitRuleConfig[]) {
    this.#rules = rules.map((rule, i) => ({ name: rule.name ?? `inhibit_rules[${i}]`, rule }));
  }

  get enabled(): boolean {
    return this.#rules.length > 0;
  }

  /**
   * A lookup of the source inhibiting a target, over the firing alerts among `open` (read once: the
   * engine takes one per rule evaluation, so sources fired by rules evaluated earlier in a pass count;
   * one fired by the same rule counts from the rule's next evaluation).
   */
  lookup(open: Iterable<StoredAlert>): (t: InhibitTarget) => InhibitSource | null {
    if (this.#rules.length === 0) return () => null;
    const firing = [...open].filter((a) => a.status === 'firing');
    const sources = this.#rules.map((c) => firing.filter((a) => matchesSide(c.rule.source, a)));
    if (sources.every((s) => s.length === 0)) return () => null;
    return (t) => {
      for (let i = 0; i < this.#rules.length; i++) {
        const { name, rule } = this.#rules[i]!;
        if (sources[i]!.length === 0 || !matchesSide(rule.target, t)) continue;
        const bothSides = matchesSide(rule.source, t);
        for (const s of sources[i]!) {
          if (s.fingerprint === t.fingerprint) continue;
          if (!rule.equal.every((l) => s.labels[l] === t.labels[l])) continue;
          if (bothSides && matchesSide(rule.target, s)) continue;
          return { id: s.id, rule: s.rule, labels: s.labels, by: name };
        }
      }
      return null;
    };
  }

  /**
   * The rules in evaluation order: those that can be a source (named by a source's `rules`) first,
   * so a root cause breaching in the same pass as its dependants fires before they are evaluated.
   */
  order<R extends { name: string }>(rules: R[]): R[] {
    const sources = new Set(this.#rules.flatMap((c) => c.rule.source.rules ?? []));
    if (sources.size === 0) return rules;
    return [...rules.filter((r) => sources.has(r.name)), ...rules.filter((r) => !sources.has(r.name))];
  }
}
