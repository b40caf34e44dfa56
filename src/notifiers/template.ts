/**
 * Logic-less templates: `{{name}}` placeholders filled with escaped values, in one pass (a value that
 * itself contains `{{...}}` is inserted as text, never expanded). A line whose placeholders are not all
 * filled is left out, which is how optional lines ("Was: {{previous_severity}}") disappear.
 */
import type { Escaper } from './escape.js';

/** Values a template may use; empty string, null and undefined count as missing. */
export type TemplateFields = Record<string, string | number | null | undefined>;

const PLACEHOLDER = /\{\{\s*([a-z0-9_]+)\s*\}\}/g;

const filled = (v: TemplateFields[string]): v is string | number => v !== undefined && v !== null && v !== '';

/** Renders `template` with `fields`, each value passed through `esc`. Unknown names throw. */
export function render(template: string, fields: TemplateFields, esc: Escaper): string {
  const out: string[] = [];
  for (const line of template.split('\n')) {
    const names = [...line.matchAll(PLACEHOLDER)].map((m) => m[1]!);
    for (const name of names) {
      if (!(name in fields)) throw new Error(`template uses an unknown field "${name}"`);
    }
    if (!names.every((name) => filled(fields[name]))) continue;
    out.push(line.replace(PLACEHOLDER, (_m, name: string) => esc(String(fields[name]))));
  }
  return out.join('\n');
}
