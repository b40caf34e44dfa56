/**
 * HTML escaping, the one escaper of every HTML (and inline SVG) prodmon's server writes: the
 * dashboard's `html` template, notification e-mails, daily summaries, the HTML report and its charts.
 * The dashboard's page script writes text with `textContent` and needs none.
 */

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/**
 * Text made safe for element content and quoted attribute values, in HTML and in SVG: `& < > " ' \``
 * become entities (understood by HTML and XML parsers alike), and control characters other than tab
 * and line breaks, which HTML does not allow, are removed.
 */
export function escapeHtml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
    .replace(/[&<>"'`]/g, (c) => ENTITIES[c]!);
}
