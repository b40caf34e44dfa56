/** The daily summary as an e-mail (text and HTML; every value escaped). */

import { formatDuration } from '../../core/duration.js';
import { formatUtc } from '../../core/format.js';
import { escapeHtml } from '../../core/html.js';
import type { EmailContent } from '../email/render.js';
import { escapeText, oneLine, truncate } from '../escape.js';
import type { DailySummary, SummaryPerformance } from './types.js';

const ms = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : `${Math.round(v)} ms`);
const pct = (v: number | null | undefined) =>
  v === null || v === undefined ? 'n/a' : `${Math.round(v * 10000) / 100}%`;

/** `+12%` / `-5%` change from `prev` to `cur`, or '' when either is missing. */
export function change(cur: number | null | undefined, prev: number | null | undefined): string {
  if (cur === null || cur === undefined || prev === null || prev === undefined || prev === 0) return '';
  const d = Math.round(((cur - prev) / prev) * 100);
  return `${d >= 0 ? '+' : ''}${d}%`;
}

function perfLines(
  cur: SummaryPerformance | null,
  prev: SummaryPerformance | null,
): [string, string, string][] {
  return [
    ['Requests', cur ? String(cur.count) : 'n/a', change(cur?.count, prev?.count)],
    [
      'p95 latency',
      ms(cur?.p95),
      `${change(cur?.p95, prev?.p95)}${prev ? ` (day before: ${ms(prev.p95)})` : ''}`,
    ],
    [
      'Error rate',
      pct(cur?.errorRate),
      `${change(cur?.errorRate, prev?.errorRate)}${prev ? ` (day before: ${pct(prev.errorRate)})` : ''}`,
    ],
  ];
}

/** The facts as label/value rows. */
function facts(s: DailySummary): [string, string][] {
  const mttr = s.alerts.mttrMs === null ? 'n/a' : formatDuration(s.alerts.mttrMs);
  const prevMttr =
    s.alerts.previousMttrMs === null ? '' : ` (day before: ${formatDuration(s.alerts.previousMttrMs)})`;
  const sev = (['critical', 'high', 'medium', 'low'] as const)
    .map((k) => `${s.alerts.bySeverity[k]} ${k}`)
    .join(', ');
  return [
    ['Period', `${formatUtc(s.since)} to ${formatUtc(s.until)}`],
    ['Alerts', `${s.alerts.total} (${sev}); ${s.alerts.open} still open; ${s.alerts.resolved} resolved`],
    ['MTTR', `${mttr}${prevMttr}`],
    ...perfLines(s.performance.current, s.performance.previous).map(
      ([k, v, c]) => [k, `${v}${c ? ` ${c}` : ''}`] as [string, string],
    ),
    [
      'Health checks',
      `${s.checks.runs} runs, ${s.checks.failures.reduce((a, f) => a + f.failures, 0)} failures`,
    ],
  ];
}

/** The summary e-mail. */
export function summaryEmail(s: DailySummary, prefix: string, link: string | null): EmailContent {
  const f = facts(s);
  const alertLines = s.alerts.items.map(
    (a) => `- [${a.severity}] ${a.rule} (${a.status}): ${oneLine(truncate(a.message, 200))}`,
  );
  const checkLines = s.checks.failures.map(
    (c) =>
      `- ${c.name}: ${c.failures} failure(s), last at ${formatUtc(c.lastAt)}${c.lastError ? `: ${oneLine(c.lastError)}` : ''}`,
  );
  const text = [
    `prodmon daily summary for ${s.day}`,
    '',
    ...f.map(([k, v]) => `${`${k}:`.padEnd(15)}${v}`),
    '',
    'Alerts:',
    ...(alertLines.length ? alertLines : ['- none']),
    '',
    'Health check failures:',
    ...(checkLines.length ? checkLines : ['- none']),
    ...(link ? ['', `Dashboard: ${link}`] : []),
  ].join('\n');
  const li = (lines: string[]) =>
    lines.length
      ? `<ul>${lines.map((l) => `<li>${escapeHtml(l.slice(2))}</li>`).join('')}</ul>`
      : '<p>none</p>';
  const html = [
    '<div style="font-family:sans-serif;max-width:640px">',
    `<h2 style="font-size:18px">prodmon daily summary for ${escapeHtml(s.day)}</h2>`,
    `<table style="border-collapse:collapse">${f.map(([k, v]) => `<tr><th style="text-align:left;padding:2px 12px 2px 0">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`,
    `<h3>Alerts</h3>${li(alertLines)}`,
    `<h3>Health check failures</h3>${li(checkLines)}`,
    link ? `<p><a href="${escapeHtml(link)}">Open the dashboard</a></p>` : '',
    '</div>',
  ].join('\n');
  const p95 = s.performance.current?.p95;
  const subject = `${oneLine(prefix)} Daily summary ${s.day}: ${s.alerts.total} alert(s)${p95 !== null && p95 !== undefined ? `, p95 ${ms(p95)}` : ''}`;
  return { subject: truncate(subject.trim(), 160), text: escapeText(text), html };
}
