/**
 * Alert list filters from text (query strings, CLI flags): statuses, severities, types, times, paging,
 * validated by one zod schema; a 400 (exit code 2 in the CLI) names the parameter.
 */
import { z } from 'zod';
import { inTimeRange } from '../core/bounds.js';
import { parseDuration } from '../core/duration.js';
import { ProdmonError } from '../core/errors.js';
import { ALERT_TYPES, type AlertFilter, type AlertStatus, SEVERITIES } from '../domain/alert.js';

type Query = Record<string, unknown>;

/** One text value (a parameter given twice is refused, naming it). */
export const text = (name: string) => z.string({ error: `"${name}" must be given once` });

/** Parses `value` with `schema`; the first problem is a 400 (exit code 2) with the schema's message. */
export function parseParams<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new ProdmonError('PRODMON_E_BAD_REQUEST', r.error.issues[0]?.message ?? 'bad request', {
    exitCode: 2,
  });
}

/** A whole number in text, from `min` to `max`; empty or absent is `dflt`. */
export function intText(name: string, min: number, max: number, dflt: number) {
  const error = `"${name}" must be an integer from ${min} to ${max}`;
  return z.preprocess(
    (v) => (v === '' || v === undefined ? dflt : v),
    z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error }),
  );
}

/** A comma list of `allowed` values; empty or absent is undefined. */
function listText<T extends string>(name: string, allowed: readonly T[]) {
  const item = z.enum(allowed as readonly [T, ...T[]], {
    error: (iss) => `"${name}" must be among ${allowed.join(', ')}; got "${String(iss.input)}"`,
  });
  return text(name)
    .optional()
    .transform((v) =>
      v
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : undefined,
    )
    .pipe(z.array(item).optional());
}

/** A time: ms since the epoch, an ISO date, or a duration back from now (`1h`); from 1970 to 9999. */
export function timeText(name: string, now: number) {
  return text(name)
    .optional()
    .transform((value, ctx) => {
      if (!value) return undefined;
      const ago = parseDuration(value);
      const t = /^\d{10,}$/.test(value)
        ? Number(value)
        : ago !== null && /[a-z]$/i.test(value)
          ? now - ago
          : Date.parse(value);
      if (inTimeRange(t)) return t;
      ctx.addIssue({
        code: 'custom',
        message: `"${name}" must be a time from 1970 to 9999 (ISO date, ms since the epoch, or a duration back such as 1h); got "${value.slice(0, 100)}"`,
      });
      return z.NEVER;
    });
}

const STATUSES = ['active', 'pending', 'firing', 'resolved', 'all'] as const;

/** The schema of the alert filter parameters at `now` (times may be durations back from it). */
function alertQuerySchema(now: number) {
  return z.object({
    status: listText('status', STATUSES),
    severity: listText('severity', SEVERITIES),
    type: listText('type', ALERT_TYPES),
    rule: text('rule').optional(),
    since: timeText('since', now),
    until: timeText('until', now),
    limit: intText('limit', 1, 500, 50),
    offset: intText('offset', 0, 10_000_000, 0),
  });
}

/** The filter of `GET /production/alerts/` (status `active` = pending and firing, `all` = any). */
export function alertQuery(q: Query, now: number): AlertFilter {
  const p = parseParams(alertQuerySchema(now), q);
  return {
    status: p.status?.includes('all')
      ? undefined
      : p.status?.flatMap((s): AlertStatus[] =>
          s === 'active' ? ['pending', 'firing'] : s === 'all' ? [] : [s],
        ),
    severity: p.severity,
    type: p.type,
    rule: p.rule || undefined,
    since: p.since,
    until: p.until,
    limit: p.limit,
    offset: p.offset,
  };
}
