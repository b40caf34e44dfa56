/**
 * Escaping HTML: the `html` tagged template escapes every interpolated value unless it is already
 * {@link SafeHtml} (the output of another `html` call), so user-supplied strings (alert messages,
 * labels, route names, check errors) can only ever be text.
 */
import { escapeHtml } from '../core/html.js';

/** A fragment of markup known to be safe (built by `html` or `raw`). */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

/** What may be interpolated: text (escaped), numbers, safe markup, lists of those, or nothing. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(v: HtmlValue): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

/** Tagged template: `html\`<p>${userText}</p>\`` escapes `userText`. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new SafeHtml(out);
}

/** Markup from a trusted constant (never from data). */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** Joins fragments. */
export function join(parts: readonly HtmlValue[], sep = ''): SafeHtml {
  return new SafeHtml(parts.map(render).join(sep));
}

/**
 * JSON for a `<script type="application/json">` block: `<`, `>`, `&` and line separators escaped, so
 * no string inside can close the element or be read as markup.
 */
export function jsonForScript(value: unknown): SafeHtml {
  const text = JSON.stringify(value ?? null).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return new SafeHtml(text);
}

/**
 * A URL safe to put in an `href`: only relative paths (`/...`, not `//host`) and http(s) URLs pass;
 * `javascript:`, `data:` and anything else give null (the caller renders plain text instead).
 */
export function safeHref(url: string): string | null {
  const s = url.trim();
  if (/^\/(?![/\\])/.test(s)) return s;
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}
