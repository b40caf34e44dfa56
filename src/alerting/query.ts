/** Alert list filters from text (query strings, CLI flags): statuses, severities, types, times, paging. */
import { inTimeRange } from '../core/bounds.js';
import { parseDuration } from '../core/duration.js';
import { ProdmonError } from '../core/errors.js';
import type { AlertFilter } from '../domain/alert.js';
import { ALERT_TYPES, type AlertStatus, type AlertType, SEVERITIES, type Severity } from '../domain/alert.js';

type Query = Record<string, string | undefined>;

const bad = (message: string) => new ProdmonError('PRODMON_E_BAD_REQUEST', message, { exitCode: 2 });

function list<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  name: string,
): T[] | undefined {
  if (!value) return undefined;
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const i of items)
    if (!allowed.includes(i as T)) throw bad(`"${name}" must be among ${allowed.join(', ')}; got "${i}"`);
  return items as T[];
}

/** A time: ms since the epoch, an ISO date, or a duration back from now (`1h`); from 1970 to 9999. */
export function timeParam(value: string | undefined, name: string, now: number): number | undefined {
  if (!value) return undefined;
  const ago = parseDuration(value);
  const t = /^\d{10,}$/.test(value)
    ? Number(value)
    : ago !== null && /[a-z]$/i.test(value)
      ? now - ago
      : Date.parse(value);
  if (!inTimeRange(t))
    throw bad(
      `"${name}" must be a time from 1970 to 9999 (ISO date, ms since the epoch, or a duration back such as 1h); got "${value.slice(0, 100)}"`,
    );
  return t;
}

/** An integer query parameter from `min` to `max` (`dflt` when absent or empty); a clear 400 otherwise. */
export function intParam(
  value: string | undefined,
  name: string,
  min: number,
  max: number,
  dflt: number,
): number {
  if (value === undefined || value === '') return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw bad(`"${name}" must be an integer from ${min} to ${max}`);
  return n;
}

/** The filter of `GET /production/alerts/` (status `active` = pending and firing, `all` = any). */
export function alertQuery(q: Query, now: number): AlertFilter {
  const status = list<AlertStatus | 'active' | 'all'>(
    q.status,
    ['active', 'pending', 'firing', 'resolved', 'all'],
    'status',
  );
  return {
    status: status?.includes('all')
      ? undefined
      : status?.flatMap((s): AlertStatus[] =>
          s === 'active' ? ['pending', 'firing'] : s === 'all' ? [] : [s],
        ),
    severity: list<Severity>(q.severity, SEVERITIES, 'severity'),
    type: list<AlertType>(q.type, ALERT_TYPES, 'type'),
    rule: q.rule || undefined,
    since: timeParam(q.since, 'since', now),
    until: timeParam(q.until, 'until', now),
    limit: intParam(q.limit, 'limit', 1, 500, 50),
    offset: intParam(q.offset, 'offset', 0, 10_000_000, 0),
  };
}
