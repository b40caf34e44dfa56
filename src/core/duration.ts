/** Parsing of durations (`500ms`, `10s`, `15m`, `4h`, `30d`) and sizes (`50MB`). */

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  k: 1024,
  mb: 1024 ** 2,
  m: 1024 ** 2,
  gb: 1024 ** 3,
  g: 1024 ** 3,
};

/** Milliseconds of a duration string, or null when it is not one. A bare number is ms. */
export function parseDuration(text: string | number): number | null {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/i.exec(text);
  if (!m) return null;
  const unit = (m[2] ?? 'ms').toLowerCase();
  return Math.round(Number(m[1]) * (DURATION_UNITS[unit] ?? 1));
}

/** Bytes of a size string (`50MB`, `1 GB`, `512k`), or null. A bare number is bytes. */
export function parseSize(text: string | number): number | null {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?b?|[kmg])?\s*$/i.exec(text);
  if (!m) return null;
  const unit = (m[2] || 'b').toLowerCase();
  const factor = SIZE_UNITS[unit];
  return factor === undefined ? null : Math.round(Number(m[1]) * factor);
}

/** A config value read as a duration or size: its value, or what is wrong with it (without the field name). */
export type ConfigAmount = { ok: true; value: number } | { ok: false; problem: string };

const BARE = /^\s*\d+(?:\.\d+)?\s*$/;

/** Whether `v` is a number, or a string of digits alone: a value written without a unit. */
function bareNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : null;
  return typeof v === 'string' && BARE.test(v) ? Number(v) : null;
}

/** `1m` for 60000, `1500ms` for 1500: how `ms` is written with the largest unit that keeps it exact. */
export function writtenDuration(ms: number): string {
  for (const [unit, f] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= f && ms % f === 0) return `${ms / f}${unit}`;
  }
  return `${ms}ms`;
}

/** `1MB` for 1048576: how `bytes` is written with the largest unit that keeps it exact. */
export function writtenSize(bytes: number): string {
  for (const [unit, f] of [
    ['GB', 1024 ** 3],
    ['MB', 1024 ** 2],
    ['KB', 1024],
  ] as const) {
    if (bytes >= f && bytes % f === 0) return `${bytes / f}${unit}`;
  }
  return `${bytes}B`;
}

/** Documented bounds of a config duration or size, written with units (`{ min: '1s', max: '1h' }`). */
export interface Bounds {
  min?: string;
  max?: string;
}

function within(value: number, b: Bounds, parse: (t: string) => number | null, got: unknown): ConfigAmount {
  if (b.min !== undefined && value < parse(b.min)!)
    return { ok: false, problem: `must be at least ${b.min}, got ${JSON.stringify(got)}` };
  if (b.max !== undefined && value > parse(b.max)!)
    return { ok: false, problem: `must be at most ${b.max}, got ${JSON.stringify(got)}` };
  return { ok: true, value };
}

/**
 * A duration in config (prodmon.yaml, `createMonitor`, `createAgent`): a number with a unit (`500ms`,
 * `10s`, `15m`, `4h`, `30d`, `1w`), in ms, within `bounds`. A bare number is refused, because nothing
 * says whether `10` means seconds or milliseconds; only `0` needs no unit.
 */
export function configDuration(v: unknown, bounds: Bounds = {}): ConfigAmount {
  const bare = bareNumber(v);
  if (bare !== null && bare !== 0) {
    const written = Number.isInteger(bare) ? writtenDuration(bare) : `${bare}ms`;
    const hint =
      bare >= 1000 && Number.isInteger(bare)
        ? `"${bare}ms"${written === `${bare}ms` ? '' : ` (that is ${written})`} or "${bare}s"`
        : `"${bare}s" (or "${bare}ms")`;
    return { ok: false, problem: `${bare} has no unit; write ${hint}` };
  }
  const ms = bare === 0 ? 0 : typeof v === 'string' ? parseDuration(v) : null;
  if (ms === null)
    return {
      ok: false,
      problem: `expected a duration such as "500ms", "10s", "15m", "30d", got ${JSON.stringify(v) ?? String(v)}`,
    };
  return within(ms, bounds, parseDuration, v);
}

/**
 * A size in config: a number with a unit (`512KB`, `50MB`, `1GB`, `100B`), in bytes, within `bounds`;
 * a bare number is refused (only `0` needs no unit).
 */
export function configSize(v: unknown, bounds: Bounds = {}): ConfigAmount {
  const bare = bareNumber(v);
  if (bare !== null && bare !== 0) {
    const exact = Number.isInteger(bare) ? writtenSize(bare) : `${bare}B`;
    const hint =
      exact === `${bare}B` ? `"${bare}B" (or "${bare}KB", "${bare}MB")` : `"${exact}" (or "${bare}B")`;
    return { ok: false, problem: `${bare} has no unit; write ${hint}` };
  }
  const bytes = bare === 0 ? 0 : typeof v === 'string' ? parseSize(v) : null;
  if (bytes === null)
    return {
      ok: false,
      problem: `expected a size such as "512KB", "50MB", "1GB", got ${JSON.stringify(v) ?? String(v)}`,
    };
  return within(bytes, bounds, parseSize, v);
}

/**
 * Short human form of a duration in ms, the one prodmon writes everywhere (messages, notifications,
 * dashboard, reports, CLI): `350ms`, `42s`, `1m 30s`, `5m`, `1h 5m`, `2d 3h`; zero parts are left out
 * (`5m`, not `5m 0s`), at most two parts, seconds only under an hour.
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const parts: string[] = [];
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) parts.push(`${d}d`);
  if (h) parts.push(`${h}h`);
  if (m && !d) parts.push(`${m}m`);
  if (!d && !h && s % 60) parts.push(`${s % 60}s`);
  return parts.join(' ');
}
