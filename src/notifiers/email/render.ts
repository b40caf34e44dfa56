/** E-mail messages: one per notification (text + HTML), the digest of several, and a group message. */
import { escapeHtml } from '../../core/html.js';
import { escapeText, oneLine, truncate } from '../escape.js';
import { countsLine as groupCounts, groupFacts, groupText, memberLine } from '../group.js';
import { COLORS, colorOf, headline, inhibitedText } from '../message.js';
import { renderHtml, renderLine, renderSubject, renderText } from '../templates.js';
import type { AlertNotification, GroupNotification } from '../types.js';

/** A rendered e-mail. */
export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

/**
 * A rendered body as a complete HTML document (doctype, charset, title), as mail clients and spam
 * filters expect of a text/html part rather than a bare fragment.
 */
export function htmlDocument(subject: string, body: string): string {
  return [
    '<!doctype html>',
    '<html><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(oneLine(subject))}</title></head>`,
    `<body>\n${body}\n</body></html>`,
  ].join('\n');
}

/**
 * The domain of prodmon's Message-IDs: the host of `server.public_url`, else this machine's host name
 * (reduced to the characters a Message-ID's right-hand side may hold), else `localhost`.
 */
export function messageIdDomain(publicUrl: string | undefined, hostName: string): string {
  if (publicUrl) {
    const host = new URL(publicUrl).hostname;
    if (host) return host;
  }
  const name = hostName
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '')
    .replace(/\.{2,}/g, '.')
    .replace(/^\.|\.$/g, '');
  return name || 'localhost';
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

/** The e-mail of a group message: headline as subject, counts, the worst members, what it suppresses. */
export function groupEmail(g: GroupNotification, prefix: string): EmailContent {
  const f = groupFacts(g);
  const rows = f.listed
    .map((n) => {
      const color = n.event === 'resolved' ? COLORS.resolved : COLORS[n.alert.severity];
      return `<tr><td style="border-left:6px solid ${color};padding:4px 8px">${escapeHtml(memberLine(n, g.group.labels))}${n.link ? ` <a href="${escapeHtml(n.link)}">view</a>` : ''}</td></tr>`;
    })
    .join('\n');
  const more = [
    ...(f.omitted > 0 ? [`and ${f.omitted.toLocaleString('en-US')} more alerts`] : []),
    ...(f.beyondCap > 0
      ? [`and ${f.beyondCap.toLocaleString('en-US')} more label sets beyond the per-rule cap`]
      : []),
  ];
  const inhibited = inhibitedText(f.inhibits);
  const html = [
    `<div style="font-family:sans-serif;max-width:640px">`,
    `<div style="border-left:6px solid ${f.color};padding:8px 12px"><h2 style="margin:0 0 8px 0;font-size:18px">${escapeHtml(f.headline)}</h2>`,
    `<p style="margin:0">${escapeHtml(groupCounts(f))}</p></div>`,
    rows ? `<table style="border-collapse:collapse;margin-top:12px">\n${rows}\n</table>` : '',
    ...more.map((m) => `<p style="margin:4px 0">${escapeHtml(m)}</p>`),
    inhibited ? `<p><strong>Suppressing:</strong> ${escapeHtml(inhibited)}</p>` : '',
    g.link ? `<p><a href="${escapeHtml(g.link)}">View the alerts in prodmon</a></p>` : '',
    '</div>',
  ]
    .filter(Boolean)
    .join('\n');
  return {
    subject: truncate(`${oneLine(prefix)} ${oneLine(f.headline)}`.trim(), 160),
    text: escapeText(groupText(g, f)),
    html,
  };
}
