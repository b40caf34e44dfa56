/** Types of format.js, the figures module shared by the server and the dashboard's page script. */

/** Bytes with a binary unit, short (`1.5 KB`, `993 MB`). */
export function formatBytes(v: number): string;

/** A number with its unit, short (`12.3 ms`, `12.3k`, `45%`); unit `bytes` is {@link formatBytes}. */
export function formatNumber(v: number, unit?: string): string;

/** A time in UTC to the second (`2026-01-01 12:00:00 UTC`); `never` for a time no date can show. */
export function formatUtc(ms: number): string;

/** What a deploy marker says on hover (`deploy v1.4.2 on web-1 · 2026-01-01 12:00:00 UTC · by ci · note`). */
export function deployTitle(d: {
  version: string;
  instance: string | null;
  atMs: number;
  by: string;
  note: string | null;
}): string;
