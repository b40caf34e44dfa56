/** E-mail messages: one per notification (text + HTML), and the digest of several. */
import { escapeHtml, escapeText, oneLine, truncate } from '../escape.js';
import { colorOf, headline } from '../message.js';
import { renderHtml, renderLine, renderSubject, renderText } from '../templates.js';
import type { AlertNotification } from '../types.js';

/** A rendered e-mail. */
export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

/** The e-mail of one notification. */
export function alertEmail(n: AlertNotification, prefix: string): EmailContent {
  return { subject: renderSubject(n, prefix), text: renderText(n), html: renderHtml(n) };
}

function countsLine(ns: AlertNotification[]): string {
  const counts = new Map<string, number>();
  for (const n of ns) {
    const k = n.event === 'resolved' ? 'resolved' : n.alert.severity;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return ['critical', 'high', 'medium', 'low', 'resolved']
    .filter((k) => counts.has(k))
    .map((k) => `${counts.get(k)} ${k}`)
    .join(', ');
}

/** One e-mail for several notifications that came due together. */
export function digestEmail(ns: AlertNotification[], prefix: string): EmailContent {
  const title = `${ns.length} notifications (${countsLine(ns)})`;
  const text = [
    title,
    '',
    ...ns.flatMap((n) => [`- ${renderLine(n, 400)}`, ...(n.link ? [`  ${n.link}`] : [])]),
  ].join('\n');
  const rows = ns
    .map(
      (n) =>
        `<tr><td style="border-left:6px solid ${colorOf(n)};padding:4px 8px"><strong>${escapeHtml(oneLine(headline(n)))}</strong><br>` +
        `${escapeHtml(n.alert.message)}${n.link ? `<br><a href="${escapeHtml(n.link)}">View the alert</a>` : ''}</td></tr>`,
    )
    .join('\n');
  const html = `<div style="font-family:sans-serif;max-width:640px"><h2 style="font-size:18px">${escapeHtml(title)}</h2>\n<table style="border-collapse:collapse">\n${rows}\n</table></div>`;
  return { subject: truncate(`${oneLine(prefix)} ${title}`.trim(), 160), text: escapeText(text), html };
}
