/**
 * Alert messages: a rule's `message` is a logic-less template (src/core/template.ts) filled with the
 * alert's variables: `{{value}}`, `{{threshold}}`, `{{labels.route}}`, `{{rule}}`, `{{window}}`... An
 * unknown name, or a label the alert does not have, becomes an empty string.
 */
import { formatDuration } from '../core/duration.js';
import { renderTemplate } from '../core/template.js';
import { deployOf } from '../deployments/annotate.js';
import type { Labels } from '../domain/labels.js';

/** What a message can refer to. */
export interface TemplateVars {
  value: number | null;
  threshold: number | null;
  labels: Labels;
  [name: string]: unknown;
}

/**
 * A number as people read it in an alert (messages, notifications, CLI): integers as is, rounded at
 * 100 and above, two decimals below; `missing` for null or a non-finite number.
 */
export function formatValue(v: number | null | undefined, missing = 'n/a'): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return missing;
  if (Math.abs(v) >= 100 || Number.isInteger(v)) return String(Math.round(v));
  return String(Math.round(v * 100) / 100);
}

/** Labels as people read them in alerts and notifications: `route=/checkout, method=GET` ('' for none). */
export function labelsText(labels: Labels): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

function lookup(vars: TemplateVars, path: string): string | undefined {
  if (path.startsWith('labels.')) {
    const key = path.slice(7);
    return Object.hasOwn(vars.labels, key) ? vars.labels[key] : undefined;
  }
  if (!Object.hasOwn(vars, path)) return undefined;
  const v = vars[path];
  if (path === 'value' || path === 'threshold') return formatValue(v as number | null);
  if (path === 'window' && typeof v === 'number') return formatDuration(v);
  if (typeof v === 'number') return formatValue(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  return undefined;
}

/** A rule's message for an alert: `{{name}}` and `{{labels.key}}` placeholders filled from `vars`. */
export function renderMessage(template: string, vars: TemplateVars): string {
  return renderTemplate(template, (name) => lookup(vars, name));
}

/** A time between a deploy and a firing as people read it: `40 s`, `3 min`, `2 h 5 min`. */
export function afterText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
}

/**
 * What an alert says of the deploy it started firing after (its metadata `deploy`, see
 * deployments/annotate.ts): `firing 3 min after deploy v1.4.2` (`on web-1` for a marker of one
 * instance), `fired ...` once resolved; '' when it follows none. The one wording of notifications,
 * the dashboard and the CLI.
 */
export function deployText(a: {
  status: string;
  firingAt: number | null;
  metadata: Record<string, unknown>;
}): string {
  const d = deployOf(a.metadata);
  if (!d || a.firingAt === null) return '';
  const verb = a.status === 'resolved' ? 'fired' : 'firing';
  return `${verb} ${afterText(a.firingAt - d.at)} after deploy ${d.version}${d.instance ? ` on ${d.instance}` : ''}`;
}
