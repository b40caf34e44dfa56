/** Number, time and change formatting shared by the text and HTML reports. */
import { formatDuration } from '../core/duration.js';
import { formatBytes } from '../core/format.js';

/** `812 ms`, `1.25 s`, `-` for null. */
export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  if (v >= 10_000) return `${(v / 1000).toFixed(1)} s`;
  if (v >= 1000) return `${(v / 1000).toFixed(2)} s`;
  return v >= 100 ? `${Math.round(v)} ms` : `${v.toFixed(1)} ms`;
}

/** A ratio as a percentage (`1.25%`). */
export function pct(ratio: number | null | undefined, digits = 2): string {
  return ratio === null || ratio === undefined || !Number.isFinite(ratio)
    ? '-'
    : `${(ratio * 100).toFixed(digits)}%`;
}

/** A value already in percent (`73.4%`). */
export function percent(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '-' : `${v.toFixed(1)}%`;
}

/** `12,345`. */
export function int(v: number): string {
  return Math.round(v).toLocaleString('en-US');
}

/** Requests per second with sensible precision. */
export function rate(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toFixed(3);
}

/** `512 MB`. */
export function bytes(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '-' : formatBytes(v);
}

/** A relative change (`+23.5%`, `-4.0%`, `new`, `-`). */
export function relChange(now: number | null, before: number | null): string {
  if (now === null || before === null) return '-';
  if (before === 0) return now === 0 ? '0%' : 'new';
  const c = (now - before) / before;
  return `${c >= 0 ? '+' : ''}${(c * 100).toFixed(1)}%`;
}

/** A change in percentage points between two ratios (`+0.40 pt`). */
export function ptChange(now: number | null, before: number | null): string {
  if (now === null || before === null) return '-';
  const d = (now - before) * 100;
  return `${d >= 0 ? '+' : ''}${d.toFixed(2)} pt`;
}

/** A change of a count (`+3`). */
export function diff(now: number, before: number): string {
  const d = now - before;
  return `${d > 0 ? '+' : ''}${d}`;
}

/** `2026-03-29 03:00` in a time zone (default: the machine's), with the zone's offset when asked. */
export function time(at: number, timeZone?: string, withZone = false): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    ...(withZone ? { timeZoneName: 'shortOffset' } : {}),
  }).formatToParts(new Date(at));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  const zone = withZone ? ` ${get('timeZoneName')}` : '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}${zone}`;
}

/** A period length (`24h`, `7d`, `1h 30m`). */
export function period(msLen: number): string {
  return formatDuration(msLen);
}

/** `GET /checkout` from a route group's labels. */
export function routeName(labels: Record<string, string>): string {
  const parts = [labels.method, labels.route].filter((x) => x !== undefined && x !== '');
  return parts.length > 0 ? parts.join(' ') : Object.values(labels).join(' ') || '(all)';
}
