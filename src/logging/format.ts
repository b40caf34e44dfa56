/** One log line as text for a terminal: time, level, message, other fields; control characters escaped. */
import type { LogLine } from './query.js';

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
// The same on every line of a file (in pino's JSON, then in ECS lines): not repeated on each printed line.
const HIDDEN = new Set([
  'time',
  'level',
  'msg',
  'pid',
  'hostname',
  'stream',
  'process.pid',
  'host.hostname',
  'ecs.version',
  'service.name',
  'event.dataset',
]);
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * `s` with every control character (C0, DEL, C1) and line/paragraph separator shown as an escape, so text
 * from a log line can neither start a new line nor send terminal escape sequences.
 */
export function escapeControl(s: string): string {
  return s.replace(CONTROL, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Name of a pino level number (`INFO`), or the number. */
export function levelName(level: unknown): string {
  return typeof level === 'number' ? (LEVEL_NAMES[level] ?? String(level)) : '?';
}

/** Style for a level (for `paint`). */
export function levelStyle(level: unknown): 'red' | 'yellow' | 'gray' | 'reset' {
  if (typeof level !== 'number') return 'reset';
  if (level >= 50) return 'red';
  if (level >= 40) return 'yellow';
  if (level <= 20) return 'gray';
  return 'reset';
}

/** `2026-11-26T10:00:00.000Z INFO  message {"reqId":"a1"}`; `paint` colours the level. */
export function formatLogLine(
  line: LogLine,
  paint: (style: ReturnType<typeof levelStyle>, text: string) => string = (_s, t) => t,
): string {
  const time =
    typeof line.time === 'number' && Number.isFinite(line.time) ? new Date(line.time).toISOString() : '-';
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(line)) if (!HIDDEN.has(k)) rest[k] = v;
  const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
  const msg =
    typeof line.msg === 'string' ? line.msg : line.msg === undefined ? '' : JSON.stringify(line.msg);
  return `${time} ${paint(levelStyle(line.level), levelName(line.level).padEnd(5))} ${escapeControl(msg + extra)}`;
}
