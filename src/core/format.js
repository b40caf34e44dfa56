// @ts-check
/**
 * Figures as prodmon writes them, one module for the server and the page. It is plain JavaScript
 * (types beside it in `format.d.ts`) because the page's modules are served as they are written, with
 * no client bundle: the server's modules (check messages, notifications, reports, the dashboard's
 * views) import this file, and the dashboard serves the same file to the page as `assets/format.js`,
 * where its charts and times import it as `./format.js` (src/dashboard/assets.ts). So a chart's
 * tooltip and the page around it never disagree, nor a time's UTC title written by the server and by
 * the page. It lives here, not among the page's files, so that no server module depends on the
 * dashboard's browser assets. Durations are written by `formatDuration` (src/core/duration.ts): the
 * page script writes none.
 */

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/**
 * Bytes with a binary unit, short: `512 B`, `1.5 KB`, `993 MB`, `1.0 GB`, `15 GB` (one decimal under
 * 10 of a unit, none from 10 up and for bytes).
 * @param {number} v a finite number of bytes (callers write their own text for a missing figure)
 * @returns {string}
 */
export function formatBytes(v) {
  let x = v;
  let i = 0;
  while (Math.abs(x) >= 1024 && i < BYTE_UNITS.length - 1) {
    x /= 1024;
    i++;
  }
  return `${x.toFixed(Math.abs(x) < 10 && i > 0 ? 1 : 0)} ${BYTE_UNITS[i]}`;
}

/**
 * A number with its unit, short: `12.3 ms`, `0.42`, `812 ms`, `12.3k`, `45%`; unit `bytes` is
 * {@link formatBytes}.
 * @param {number} v a finite number
 * @param {string} [unit] `bytes`, `%`, another unit written after a space, or none
 * @returns {string}
 */
export function formatNumber(v, unit = '') {
  if (unit === 'bytes') return formatBytes(v);
  let text;
  if (Math.abs(v) >= 10_000) text = `${(v / 1000).toFixed(1)}k`;
  else if (Math.abs(v) >= 100 || Number.isInteger(v)) text = String(Math.round(v));
  else if (Math.abs(v) >= 10) text = v.toFixed(1);
  else text = v.toFixed(2);
  return unit === '%' ? `${text}%` : unit ? `${text} ${unit}` : text;
}

/**
 * A time in UTC to the second: `2026-01-01 12:00:00 UTC`; a time no date can show (NaN, beyond year
 * 275760) is `never`.
 * @param {number} ms milliseconds since 1970
 * @returns {string}
 */
export function formatUtc(ms) {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return 'never';
  return d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

/**
 * What a deploy marker says on hover (charts, sparklines, the list):
 * `deploy v1.4.2 on web-1 · 2026-01-01 12:00:00 UTC · by ci · the note`.
 * @param {{ version: string, instance: string | null, atMs: number, by: string, note: string | null }} d
 * @returns {string}
 */
export function deployTitle(d) {
  const where = d.instance ? ` on ${d.instance}` : '';
  return `deploy ${d.version}${where} · ${formatUtc(d.atMs)} · by ${d.by}${d.note ? ` · ${d.note}` : ''}`;
}
