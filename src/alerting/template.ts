/**
 * Logic-less message templates: `{{value}}`, `{{threshold}}`, `{{labels.route}}`... are replaced by
 * their values; there are no expressions, loops or code. An unknown name becomes an empty string.
 */
import { formatDuration } from '../core/duration.js';
import type { Labels } from '../core/types.js';

/** What a template can refer to. */
export interface TemplateVars {
  value: number | null;
  threshold: number | null;
  labels: Labels;
  [name: string]: unknown;
}

/** A number as people read it in an alert: integers above 100, two decimals below. */
export function formatValue(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'n/a';
  if (Math.abs(v) >= 100 || Number.isInteger(v)) return String(Math.round(v));
  return String(Math.round(v * 100) / 100);
}

function lookup(vars: TemplateVars, path: string): string {
  if (path.startsWith('labels.')) return vars.labels[path.slice(7)] ?? '';
  const v = vars[path];
  if (path === 'value' || path === 'threshold') return formatValue(v as number | null);
  if (path === 'window' && typeof v === 'number') return formatDuration(v);
  if (typeof v === 'number') return formatValue(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  return '';
}

/** Fills `{{name}}` and `{{labels.key}}` placeholders. */
export function renderTemplate(template: string, vars: TemplateVars): string {
  return template.replace(/\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}/g, (_, path: string) => lookup(vars, path));
}
