/**
 * The message templates (logic-less, src/core/template.ts). Each channel renders the same facts with its
 * own escaper: plain text for e-mail text parts, webhooks and PagerDuty; HTML for e-mail; Slack builds
 * blocks. A line whose fact does not apply (empty) is left out ("Was:" only on an escalation).
 */

import { escapeHtml } from '../core/html.js';
import { renderTemplate, type TemplateValues } from '../core/template.js';
import { type Escaper, escapeText, oneLine, truncate } from './escape.js';
import { alertFields, colorOf } from './message.js';
import type { AlertNotification } from './types.js';

/**
 * The facts of a notification, in the order every channel shows them: label, then the field shown
 * (the text body's lines, the HTML e-mail's table rows, Slack's fields).
 */
export const FACT_ROWS: readonly (readonly [label: string, field: string])[] = [
  ['Severity', 'severity'],
  ['Was', 'previous_severity'],
  ['Type', 'type'],
  ['Rule', 'rule'],
  ['Value', 'value_vs_threshold'],
  ['Since', 'since'],
  ['Deploy', 'deploy'],
  ['Firing for', 'firing_for'],
  ['Down for', 'down_for'],
  ['Resolved', 'resolved_at'],
  ['Resolution', 'resolution'],
  ['Reminders', 'reminders'],
  ['Labels', 'labels'],
  ['Alert id', 'alert_id'],
  ['Suppressing', 'inhibits'],
];

/** The plain-text body of one alert notification (`Severity:    {{severity}}`...). */
export const TEXT_TEMPLATE = `{{headline}}

{{message}}

${FACT_ROWS.map(([label, field]) => `${`${label}:`.padEnd(13)}{{${field}}}`).join('\n')}

View the alert: {{link}}`;

/** One line for lists (digests, summaries). */
export const LINE_TEMPLATE = '{{headline}}: {{message}}';

/** The e-mail subject. */
export const SUBJECT_TEMPLATE = '{{headline}}: {{message}}';

const HTML_TEMPLATE = `<div style="font-family:sans-serif;max-width:640px">
<div style="border-left:6px solid {{color}};padding:8px 12px">
<h2 style="margin:0 0 8px 0;font-size:18px">{{headline}}</h2>
<p style="margin:0;white-space:pre-wrap">{{message}}</p>
</div>
<table style="border-collapse:collapse;margin-top:12px">
${FACT_ROWS.map(([label, field]) => `<tr><th style="text-align:left;padding:2px 12px 2px 0">${label}</th><td>{{${field}}}</td></tr>`).join('\n')}
</table>
<p><a href="{{link}}">View the alert in prodmon</a></p>
</div>`;

function render(template: string, fields: TemplateValues, esc: Escaper): string {
  return renderTemplate(template, fields, { escape: esc, optionalLines: true });
}

/** Plain-text body. */
export function renderText(n: AlertNotification): string {
  return render(TEXT_TEMPLATE, alertFields(n), escapeText);
}

/** One line, cut to `max` characters. */
export function renderLine(n: AlertNotification, max = 1024): string {
  return truncate(render(LINE_TEMPLATE, alertFields(n), oneLine), max);
}

/** HTML body (every value escaped). */
export function renderHtml(n: AlertNotification): string {
  return render(HTML_TEMPLATE, { ...alertFields(n), color: colorOf(n) }, escapeHtml);
}

/** E-mail subject, one line, at most `max` characters. */
export function renderSubject(n: AlertNotification, prefix: string, max = 160): string {
  const subject = render(SUBJECT_TEMPLATE, alertFields(n), oneLine);
  return truncate(prefix ? `${oneLine(prefix)} ${subject}` : subject, max);
}
