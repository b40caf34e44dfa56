/** Small rendering helpers shared by the dashboard views: times, durations, numbers, badges, labels. */
import { formatDuration } from '../../core/duration.js';
import { formatNumber, formatUtc } from '../../core/format.js';
import type { Labels } from '../../domain/labels.js';
import { html, type SafeHtml, safeHref } from '../html.js';

/**
 * A time: UTC in the markup (`formatUtc`; a time no date can show, e.g. a row stored before times were
 * bounded: `never`), shown in the viewer's zone by the page script, UTC on hover.
 */
export function time(ms: number | null | undefined): SafeHtml {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return html`<span class="muted">–</span>`;
  const d = new Date(ms);
  if (Number.isNaN(d.getTime()))
    return html`<span class="muted" title="${String(ms)} ms since 1970">never</span>`;
  return html`<time datetime="${d.toISOString()}" title="${formatUtc(ms)}">${formatUtc(ms)}</time>`;
}

/** `5m ago`-style age of a time, relative to `now`. */
export function ago(ms: number | null | undefined, now: number): string {
  if (ms === null || ms === undefined) return '';
  const d = now - ms;
  return d < 0 ? 'just now' : d < 1000 ? 'just now' : `${formatDuration(d)} ago`;
}

/** A duration in ms, short. */
export function dur(ms: number | null | undefined): string {
  return ms === null || ms === undefined || !Number.isFinite(ms) ? '–' : formatDuration(Math.max(0, ms));
}

/** What a figure whose data is missing shows: never a default that looks healthy (0, 0 %). */
export const NO_DATA = 'no data';

/** A measured figure: {@link num}, or "no data" when it is missing. */
export function figure(v: number | null | undefined, unit = ''): string {
  return v === null || v === undefined || !Number.isFinite(v) ? NO_DATA : num(v, unit);
}

/** A number with a unit, short (`12.3 ms`, `1.2k`, `45%`), as the page script's charts write it. */
export function num(v: number | null | undefined, unit = ''): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : formatNumber(v, unit);
}

/** A status or severity badge (the class is chosen from a fixed list, the text escaped). */
export function badge(kind: string, text: string = kind): SafeHtml {
  const known = [
    'healthy',
    'degraded',
    'unhealthy',
    'low',
    'medium',
    'high',
    'critical',
    'pending',
    'firing',
    'resolved',
    'silenced',
    'ok',
    'failed',
    'dead',
    'delivered',
  ];
  const cls = known.includes(kind) ? (kind === 'delivered' ? 'ok' : kind) : 'neutral';
  return html`<span class="badge ${cls}">${text}</span>`;
}

/**
 * Labels as `key=value` chips. Values that are http(s) URLs become links (opened without referrer);
 * anything else, `javascript:` URLs included, is plain text.
 */
export function labels(l: Labels): SafeHtml {
  const keys = Object.keys(l).sort();
  if (keys.length === 0) return html``;
  return html`<span class="labels">${keys.map((k) => {
    const v = l[k] ?? '';
    const href = /^https?:\/\//i.test(v.trim()) ? safeHref(v) : null;
    return href
      ? html`<span class="label-pair">${k}=<a href="${href}" rel="noopener noreferrer nofollow" target="_blank">${v}</a></span>`
      : html`<span class="label-pair">${k}=${v}</span>`;
  })}</span>`;
}

/** An empty state: what is missing and what to configure. */
export function empty(text: SafeHtml | string): SafeHtml {
  return html`<div class="empty-state" role="note">${text}</div>`;
}

/** A deploy marker on a sparkline: where (0 to 1 of its width) and what it says on hover. */
export interface SparkMark {
  x: number;
  title: string;
}

/**
 * An inline SVG sparkline of values (null gaps skipped), scaled to its own max, with a dashed vertical
 * line per deploy marker (its title on hover).
 */
export function spark(
  values: readonly (number | null)[],
  title: string,
  marks: readonly SparkMark[] = [],
): SafeHtml {
  const w = 120;
  const h = 28;
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (present.length === 0) return html`<span class="no-data">${NO_DATA}</span>`;
  const max = Math.max(...present) || 1;
  const stepX = values.length > 1 ? w / (values.length - 1) : w;
  const segments: string[][] = [[]];
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      if (segments[segments.length - 1]!.length > 0) segments.push([]);
      return;
    }
    const y = h - 2 - (v / max) * (h - 4);
    segments[segments.length - 1]!.push(`${(i * stepX).toFixed(1)},${y.toFixed(1)}`);
  });
  const lines = segments
    .filter((s) => s.length > 0)
    .map((s) => (s.length === 1 ? [s[0]!, s[0]!.replace(/^([\d.]+)/, (x) => String(Number(x) + 1))] : s));
  const deploys = marks.map((m) => {
    const x = (Math.min(1, Math.max(0, m.x)) * w).toFixed(1);
    return html`<line class="deploy-mark" x1="${x}" x2="${x}" y1="0" y2="${h}"><title>${m.title}</title></line>`;
  });
  const said = marks.length ? `, ${marks.map((m) => m.title).join('; ')}` : '';
  return html`<svg class="spark" viewBox="0 0 ${w} ${h}" role="img" aria-label="${title}: latest ${num(present[present.length - 1]!, 'ms')}, max ${num(max, 'ms')}${said}">${deploys}${lines.map((s) => html`<polyline points="${s.join(' ')}"/>`)}</svg>`;
}
