/**
 * Grouped notifications: which group a transition belongs to (its rule, plus `group_by` labels, per
 * channel), and the facts every kind's grouped format shows: how many alerts (and label sets beyond
 * the per-rule cap), by severity, the worst members first (by severity, then how far past the
 * threshold), what is still open, and what the members inhibit.
 */

import { deployText, formatValue, labelsText } from '../alerting/message.js';
import { SEVERITIES, type Severity } from '../domain/alert.js';
import type { Labels } from '../domain/labels.js';
import type { AlertTransition } from '../domain/transition.js';
import { COLORS, headline, inhibitedText } from './message.js';
import type { AlertNotification, GroupInfo, GroupNotification, InhibitedAlert } from './types.js';

/** The group of a transition: its rule plus the values of the `group_by` labels. */
export function groupOf(t: Pick<AlertTransition, 'alert'>, groupBy: readonly string[]): GroupInfo {
  const labels: Labels = {};
  for (const k of groupBy) labels[k] = t.alert.labels[k] ?? '';
  const suffix = groupBy.length
    ? `{${groupBy.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`
    : '';
  return { key: `${t.alert.rule}${suffix}`, rule: t.alert.rule, labels };
}

/** How many label sets beyond the per-rule cap a summary alert stands for (0: a regular alert). */
export function overflowCount(n: AlertNotification): number {
  const o = n.alert.metadata.overflow as { count?: unknown } | undefined;
  return typeof o?.count === 'number' && o.count > 0 ? o.count : 0;
}

const rank = (s: Severity) => SEVERITIES.indexOf(s);
const resolved = (n: AlertNotification) => n.event === 'resolved';

/** How bad a member is beyond its threshold (for ordering members of one rule). */
function distance(n: AlertNotification): number {
  const { value, threshold } = n.alert;
  if (value === null) return Number.NEGATIVE_INFINITY;
  return threshold === null ? value : Math.abs(value - threshold);
}

/** Members worst first: still firing before resolved, then severity, then distance past the threshold. */
export function worstFirst(ns: readonly AlertNotification[]): AlertNotification[] {
  return [...ns].sort(
    (a, b) =>
      Number(resolved(a)) - Number(resolved(b)) ||
      rank(b.alert.severity) - rank(a.alert.severity) ||
      distance(b) - distance(a) ||
      a.alert.id.localeCompare(b.alert.id),
  );
}

/** The labels of a member beyond the group's own, as `k=v, k=v`. */
export function memberLabels(n: AlertNotification, group: Labels): string {
  return labelsText(Object.fromEntries(Object.entries(n.alert.labels).filter(([k]) => !(k in group))));
}

/** What every grouped format shows. */
export interface GroupFacts {
  headline: string;
  /** The worst severity among the members still firing (among all when none is). */
  severity: Severity;
  color: string;
  /** Alerts in this message that fire (firing, escalated, reminder...) and that resolved. */
  firing: number;
  resolved: number;
  /** Label sets they stand for: a summary alert counts the label sets beyond the cap it stands for. */
  firingLabelSets: number;
  resolvedLabelSets: number;
  /** Label sets beyond the per-rule cap (from the summary alerts in this message). */
  beyondCap: number;
  /** Firing alerts in this message that are not summary alerts. */
  firingAlerts: number;
  /** Firing members per severity. */
  bySeverity: Record<Severity, number>;
  /** The worst members (at most `maxListed`; summary alerts are described by `beyondCap`). */
  listed: AlertNotification[];
  /** Members not listed by name. */
  omitted: number;
  /** Alerts of the group still open on this channel after this message. */
  open: number;
  /** Alerts the members inhibit (root causes list what they suppress). */
  inhibits: InhibitedAlert[];
}

/** The facts of a group message. */
export function groupFacts(g: GroupNotification): GroupFacts {
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  let firing = 0;
  let firingSets = 0;
  let resolvedCount = 0;
  let resolvedSets = 0;
  let beyondCap = 0;
  let summaries = 0;
  for (const n of g.members) {
    const over = overflowCount(n);
    const sets = over > 0 ? over : 1;
    if (resolved(n)) {
      resolvedCount++;
      resolvedSets += sets;
    } else {
      firing++;
      firingSets += sets;
      beyondCap += over;
      if (over > 0) summaries++;
      else bySeverity[n.alert.severity]++;
    }
  }
  const regular = worstFirst(g.members.filter((n) => overflowCount(n) === 0));
  const listed = regular.slice(0, g.maxListed);
  const pool = firing > 0 ? g.members.filter((n) => !resolved(n)) : g.members;
  const severity = pool.reduce<Severity>(
    (w, n) => (rank(n.alert.severity) > rank(w) ? n.alert.severity : w),
    'low',
  );
  const inhibits = new Map<string, InhibitedAlert>();
  for (const n of g.members) for (const i of n.inhibits ?? []) inhibits.set(i.id, i);
  const facts: GroupFacts = {
    headline: '',
    severity,
    color: firing > 0 ? COLORS[severity] : COLORS.resolved,
    firing,
    resolved: resolvedCount,
    firingLabelSets: firingSets,
    resolvedLabelSets: resolvedSets,
    beyondCap,
    firingAlerts: firing - summaries,
    bySeverity,
    listed,
    omitted: regular.length - listed.length,
    open: g.group.open,
    inhibits: [...inhibits.values()],
  };
  facts.headline = groupHeadline(g, facts);
  return facts;
}

const count = (n: number, one: string, many = `${one}s`) =>
  `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** The group's name in text: the rule, with its `group_by` labels. */
export function groupName(g: GroupNotification): string {
  const labels = labelsText(g.group.labels);
  return labels ? `${g.group.rule} (${labels})` : g.group.rule;
}

function groupHeadline(g: GroupNotification, f: GroupFacts): string {
  const name = groupName(g);
  const sev = f.severity.toUpperCase();
  if (f.firing === 0) return `RESOLVED: ${name}: ${count(f.resolvedLabelSets, 'alert')} resolved`;
  const events = new Set(g.members.filter((n) => !resolved(n)).map((n) => n.event));
  const only = events.size === 1 ? [...events][0] : undefined;
  const verb =
    only === 'reminder'
      ? 'still firing'
      : only === 'escalated'
        ? 'escalated'
        : only === 'deescalated'
          ? 'lowered'
          : 'firing';
  const lead = only === 'escalation' ? `ESCALATION ${sev}` : sev;
  const what = only === 'escalation' ? 'unresolved' : verb;
  const head = `${lead}: ${name}: ${count(f.firingLabelSets, 'alert')} ${what}`;
  return f.resolved > 0 ? `${head}, ${count(f.resolvedLabelSets, 'alert')} resolved` : head;
}

/** One line per listed member: `CRITICAL route=/a: <message> (812, threshold 500)`. */
export function memberLine(n: AlertNotification, group: Labels): string {
  const labels = memberLabels(n, group);
  const what = resolved(n) ? 'RESOLVED' : n.event === 'firing' ? n.alert.severity.toUpperCase() : headline(n);
  const value = formatValue(n.alert.value, '');
  const threshold = formatValue(n.alert.threshold, '');
  const figures = value ? ` (${value}${threshold ? `, threshold ${threshold}` : ''})` : '';
  const deploy = deployText(n.alert);
  return `${what}${labels ? ` ${labels}` : ''}: ${n.alert.message}${figures}${deploy ? `, ${deploy}` : ''}`;
}

/** The counts line: `2,000 label sets: 100 alerts (100 critical) + 1,900 beyond the cap of 100 per rule`. */
export function countsLine(f: GroupFacts): string {
  const parts: string[] = [];
  if (f.firing > 0) {
    const sev = SEVERITIES.filter((s) => f.bySeverity[s] > 0)
      .reverse()
      .map((s) => `${f.bySeverity[s].toLocaleString('en-US')} ${s}`)
      .join(', ');
    const head = `Firing: ${count(f.firingAlerts, 'alert')}${sev ? ` (${sev})` : ''}`;
    parts.push(
      f.beyondCap > 0
        ? `${head} + ${count(f.beyondCap, 'more label set')} beyond the per-rule cap, ${f.firingLabelSets.toLocaleString('en-US')} in all`
        : head,
    );
  }
  if (f.resolved > 0) parts.push(`Resolved: ${count(f.resolvedLabelSets, 'alert')}`);
  parts.push(`Still open in this group: ${f.open.toLocaleString('en-US')}`);
  return parts.join('. ');
}

/** The plain-text body of a group message. */
export function groupText(g: GroupNotification, f = groupFacts(g)): string {
  const lines = [f.headline, '', countsLine(f), ''];
  if (f.listed.length) {
    lines.push(f.omitted > 0 ? `Worst ${f.listed.length}:` : 'Alerts:');
    for (const n of f.listed) lines.push(`- ${memberLine(n, g.group.labels)}`);
    if (f.omitted > 0) lines.push(`- and ${count(f.omitted, 'more alert')}`);
  }
  if (f.beyondCap > 0) lines.push(`- and ${count(f.beyondCap, 'more label set')} beyond the per-rule cap`);
  const inhibited = inhibitedText(f.inhibits);
  if (inhibited) lines.push('', `Suppressing: ${inhibited}`);
  if (g.link) lines.push('', `View the alerts: ${g.link}`);
  return lines.join('\n');
}
