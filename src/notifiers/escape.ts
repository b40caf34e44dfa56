/**
 * Message text is data: alert messages, labels and values may hold HTML, Slack control sequences
 * (`<!channel>`, `<@U123>`) or template syntax. Each channel escapes them for its own format (HTML with
 * src/core/html.ts).
 */

/** A function that makes a piece of data safe for one output format. */
export type Escaper = (text: string) => string;

/** Plain text: control characters (other than newline and tab) removed. */
export const escapeText: Escaper = (text) => text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');

/**
 * Slack `mrkdwn` (and the message's fallback `text`): `&`, `<` and `>` are the only control characters
 * Slack parses (`<!channel>`, `<@U123>`, `<url|text>`); escaped, they show as typed and notify nobody.
 */
export const escapeSlack: Escaper = (text) =>
  escapeText(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** One line (e-mail subjects, headers, summaries): line breaks and runs of spaces become one space. */
export const oneLine: Escaper = (text) => escapeText(text).replace(/\s+/g, ' ').trim();

/** `text` cut to at most `max` characters (code points), ending with an ellipsis when cut. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}
