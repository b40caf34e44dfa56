/**
 * Slack Block Kit messages for incoming webhooks: a header, then an attachment in the severity's colour
 * holding the message and facts. Alert text goes in `plain_text` objects; anything placed in `mrkdwn`
 * is escaped (`&`, `<`, `>`), so `<!channel>` or `<@U123>` in an alert shows as text and pings no one.
 */
import { escapeSlack, oneLine, truncate } from '../escape.js';
import { countsLine, groupFacts, memberLine } from '../group.js';
import { alertFields, colorOf, headline, inhibitedText } from '../message.js';
import { FACT_ROWS, renderLine } from '../templates.js';
import type { AlertNotification, GroupNotification } from '../types.js';

type Block = Record<string, unknown>;

const plain = (text: string, max: number) => ({
  type: 'plain_text',
  text: truncate(text, max) || ' ',
  emoji: false,
});

/** A URL fit for `<url|text>`: escaped, with `|` encoded. */
function slackUrl(url: string): string {
  return escapeSlack(url).replace(/\|/g, '%7C');
}

function linkLine(n: AlertNotification): string {
  const id = escapeSlack(n.alert.id);
  return n.link ? `<${slackUrl(n.link)}|View alert in prodmon> · ${id}` : `alert ${id}`;
}

/** The facts Slack shows as fields (at most 10 fit): the rule is in the header, the id in the link line. */
const FACTS = FACT_ROWS.filter(([, field]) => !['rule', 'resolved_at', 'alert_id'].includes(field));

/** The facts section: `*Label*` (ours) and an escaped value. */
function facts(n: AlertNotification): Block {
  const f = alertFields(n);
  const fields = FACTS.filter(([, k]) => f[k] !== '' && f[k] !== undefined && f[k] !== null)
    .slice(0, 10)
    .map(([label, k]) => ({
      type: 'mrkdwn',
      text: truncate(`*${label}*\n${escapeSlack(String(f[k]))}`, 2000),
    }));
  return { type: 'section', fields };
}

/** The attachment of one notification (full form). */
function attachment(n: AlertNotification): Block {
  return {
    color: colorOf(n),
    blocks: [
      { type: 'section', text: plain(n.alert.message, 3000) },
      facts(n),
      { type: 'context', elements: [{ type: 'mrkdwn', text: linkLine(n) }] },
    ],
  };
}

/** The message for one notification. */
export function slackMessage(n: AlertNotification): Block {
  return {
    text: escapeSlack(renderLine(n, 300)),
    blocks: [{ type: 'header', text: plain(oneLine(headline(n)), 150) }],
    attachments: [attachment(n)],
  };
}

/** One message for several notifications (when more are due than Slack's rate limit lets through). */
export function slackBatchMessage(ns: AlertNotification[]): Block {
  const title = `${ns.length} prodmon notifications`;
  return {
    text: escapeSlack(truncate(`${title}: ${ns.map((n) => renderLine(n, 80)).join('; ')}`, 2000)),
    blocks: [{ type: 'header', text: plain(title, 150) }],
    attachments: ns.map((n) => ({
      color: colorOf(n),
      blocks: [
        { type: 'section', text: plain(`${oneLine(headline(n))}\n${n.alert.message}`, 3000) },
        { type: 'context', elements: [{ type: 'mrkdwn', text: linkLine(n) }] },
      ],
    })),
  };
}

/** The message of a group: its headline, counts, the worst members, what it suppresses, a link. */
export function slackGroupMessage(g: GroupNotification): Block {
  const f = groupFacts(g);
  const lines = f.listed.map((n) => `• ${truncate(oneLine(memberLine(n, g.group.labels)), 280)}`);
  if (f.omitted > 0) lines.push(`• and ${f.omitted.toLocaleString('en-US')} more`);
  if (f.beyondCap > 0)
    lines.push(`• and ${f.beyondCap.toLocaleString('en-US')} more label sets beyond the per-rule cap`);
  const inhibited = inhibitedText(f.inhibits);
  const link = g.link
    ? `<${slackUrl(g.link)}|View the alerts in prodmon> · ${escapeSlack(g.group.key)}`
    : escapeSlack(g.group.key);
  return {
    text: escapeSlack(truncate(`${f.headline}. ${countsLine(f)}`, 2000)),
    blocks: [{ type: 'header', text: plain(oneLine(f.headline), 150) }],
    attachments: [
      {
        color: f.color,
        blocks: [
          { type: 'section', text: plain(countsLine(f), 3000) },
          ...(lines.length ? [{ type: 'section', text: plain(lines.join('\n'), 3000) }] : []),
          ...(inhibited ? [{ type: 'section', text: plain(`Suppressing: ${inhibited}`, 3000) }] : []),
          { type: 'context', elements: [{ type: 'mrkdwn', text: link }] },
        ],
      },
    ],
  };
}
