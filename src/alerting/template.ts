/**
 * Logic-less message templates: `{{value}}`, `{{threshold}}`, `{{labels.route}}`... are replaced by
 * their values; there are no expressions, loops or code. An unknown name becomes an empty string.
 */
import type { Labels } from '../domain/labels.js';

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

/** A duration as `5m`, `1m 30s`, `2h`, `350ms` (zero parts left out). */
export function shortDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  const parts: string[] = [];
  let rest = Math.round(ms / 1000) * 1000;
  for (const [u, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${u}`);
    rest -= n * size;
  }
  return parts.join(' ');
}

function lookup(vars: TemplateVars, path: string): string {
  if (path.startsWith('labels.')) return vars.labels[path.slice(7)] ?? '';
  const v = vars[path];
  if (path === 'value' || path === 'threshold') return formatValue(v as number | null);
  if (path === 'window' && typeof v === 'number') return shortDuration(v);
  if (typeof v === 'number') return formatValue(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  return '';
}

/** Fills `{{name}}` and `{{labels.key}}` placeholders. */
export function renderTemplate(template: string, vars: TemplateVars): string {
  return template.replace(/\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}/g, (_, path: string) => lookup(vars, path));
}
