/**
 * The logic-less template engine of alert messages (`alerting.rules[].message`, filled by
 * src/alerting/message.ts) and of notification bodies (src/notifiers/templates.ts).
 *
 * `{{name}}` and `{{a.b}}` placeholders (spaces inside the braces allowed) are replaced by their values
 * in one pass: a value that itself contains `{{...}}` is inserted as text, never expanded. Nothing else
 * is interpreted (no expressions, loops, partials or code): anything that is not a placeholder is kept
 * as typed.
 *
 * Unknown names, the one rule: a placeholder without a value (a name the caller does not know, or
 * whose value is null, undefined or '') becomes the empty string. It never throws and is never shown
 * as typed; only a caller's own names are looked up (never `constructor` or other inherited names).
 *
 * Optional lines: with `optionalLines`, a line where a placeholder came out empty is left out whole
 * (how a notification's `Was: {{previous_severity}}` shows only on an escalation). Alert messages do
 * not use it: a rule's message never loses text because an alert lacks a label.
 */

/** One value a placeholder may take (numbers and booleans are written with `String`). */
export type TemplateValue = string | number | boolean | null | undefined;

/** Named values, or a function giving the value of a name (undefined: unknown). */
export type TemplateValues = Readonly<Record<string, TemplateValue>> | ((name: string) => TemplateValue);

/** How to render. */
export interface TemplateOptions {
  /** Makes each value safe for the output format (HTML, Slack...); not applied to the template's own text. */
  escape?: (text: string) => string;
  /** Leave out each line where a placeholder came out empty. */
  optionalLines?: boolean;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}/g;

/** The names of the placeholders `template` uses, in order (repeats included). */
export function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** Renders `template` with `values` (see the module comment for the rules). */
export function renderTemplate(template: string, values: TemplateValues, opts: TemplateOptions = {}): string {
  const get =
    typeof values === 'function'
      ? values
      : (name: string) => (Object.hasOwn(values, name) ? values[name] : undefined);
  const text = (name: string): string => {
    const v = get(name);
    return v === null || v === undefined ? '' : String(v);
  };
  const esc = opts.escape ?? ((s: string) => s);
  if (!opts.optionalLines) return template.replace(PLACEHOLDER, (_m, name: string) => esc(text(name)));
  const out: string[] = [];
  for (const line of template.split('\n')) {
    let empty = false;
    const filled = line.replace(PLACEHOLDER, (_m, name: string) => {
      const t = text(name);
      if (t === '') empty = true;
      return esc(t);
    });
    if (!empty) out.push(filled);
  }
  return out.join('\n');
}
