/**
 * Silences: mute the alerts matching a rule, labels and/or a type for a while. Silenced alerts are
 * still evaluated and recorded; they are notified when the silence ends if they are still firing, and
 * a resolution is still told to those who were told of the firing. Creating and expiring one is
 * audited. Shared by the HTTP API and the CLI.
 */
import { z } from 'zod';
import { inTimeRange } from '../core/bounds.js';
import { configDuration, formatDuration } from '../core/duration.js';
import { ProdmonError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { ALERT_TYPES, type AlertType } from '../domain/alert.js';
import type { Labels } from '../domain/labels.js';
import type { Silence, SilenceMatchers } from '../domain/silence.js';
import type { Repos } from '../store/index.js';
import { labelsMatch, type MuteTarget } from './maintenance.js';

/** Whether a silence's matchers match an alert (every given matcher must; none matches all). */
export function silenceMatches(m: SilenceMatchers, t: MuteTarget): boolean {
  if (m.rule !== undefined && m.rule !== t.rule) return false;
  if (m.type !== undefined && m.type !== t.type) return false;
  return labelsMatch(m.labels, t.labels);
}

const DAY_MS = 86_400_000;
/** The longest a silence may last. */
export const MAX_SILENCE_MS = 90 * DAY_MS;
/** How far ahead a silence may start. */
export const MAX_SILENCE_LEAD_MS = 90 * DAY_MS;
/** The longest comment kept (characters). */
export const MAX_SILENCE_COMMENT = 1000;

/** What a caller asks for. */
export interface SilenceRequest {
  rule?: string;
  labels?: Labels;
  type?: string;
  /** Match every alert (needed when no matcher is given, so nobody mutes everything by accident). */
  all?: boolean;
  /** Default: now. */
  startsAt?: number;
  endsAt?: number;
  durationMs?: number;
  createdBy: string;
  comment: string;
  /** How the caller names the start, end and duration in its errors (default: the API's names). */
  fields?: { startsAt: string; endsAt: string; duration: string };
}

const API_FIELDS = { startsAt: '"starts_at"', endsAt: '"ends_at"', duration: '"duration"' };

const bad = (message: string) => new ProdmonError('PRODMON_E_BAD_REQUEST', message, { exitCode: 2 });

/** Validates a request into a silence (throws PRODMON_E_BAD_REQUEST naming the problem). */
export function buildSilence(req: SilenceRequest, now: number): Silence {
  const matchers: SilenceMatchers = {};
  if (req.rule !== undefined) {
    if (typeof req.rule !== 'string' || !req.rule) throw bad('"rule" must be a non-empty rule name');
    matchers.rule = req.rule;
  }
  if (req.type !== undefined) {
    if (!ALERT_TYPES.includes(req.type as AlertType)) {
      throw bad(`"type" must be one of ${ALERT_TYPES.join(', ')}, got ${JSON.stringify(req.type)}`);
    }
    matchers.type = req.type as AlertType;
  }
  if (req.labels !== undefined) {
    const ok =
      req.labels &&
      typeof req.labels === 'object' &&
      !Array.isArray(req.labels) &&
      Object.values(req.labels).every((v) => typeof v === 'string');
    if (!ok) throw bad('"labels" must be an object of string values, e.g. {"route": "/checkout"}');
    if (Object.keys(req.labels).length) matchers.labels = { ...req.labels };
  }
  if (Object.keys(matchers).length === 0 && !req.all) {
    throw bad('a silence needs a matcher (rule, labels or type), or "all": true to mute every alert');
  }
  if (typeof req.comment !== 'string' || !req.comment.trim())
    throw bad('a silence needs a comment saying why');
  if (req.comment.length > MAX_SILENCE_COMMENT)
    throw bad(`the comment is longer than ${MAX_SILENCE_COMMENT} characters`);
  const f = req.fields ?? API_FIELDS;
  const max = formatDuration(MAX_SILENCE_MS);
  const startsAt = req.startsAt ?? now;
  if (!inTimeRange(startsAt)) throw bad(`${f.startsAt} must be a date-time from 1970 to 9999`);
  if (startsAt > now + MAX_SILENCE_LEAD_MS)
    throw bad(`${f.startsAt} must be at most ${formatDuration(MAX_SILENCE_LEAD_MS)} ahead`);
  if (req.durationMs !== undefined && !(req.durationMs > 0 && req.durationMs <= MAX_SILENCE_MS))
    throw bad(`${f.duration} must be more than 0 and at most ${max}`);
  let endsAt = req.endsAt;
  if (endsAt === undefined && req.durationMs !== undefined) endsAt = startsAt + req.durationMs;
  if (endsAt === undefined || !Number.isFinite(endsAt))
    throw bad(`a silence needs an end (${f.endsAt}) or a duration (${f.duration}, e.g. 30m)`);
  if (endsAt <= startsAt) throw bad('a silence must end after it starts');
  if (endsAt <= now) throw bad('a silence must end in the future');
  if (endsAt - Math.max(startsAt, now) > MAX_SILENCE_MS)
    throw bad(`${f.endsAt} must be at most ${max} after the silence starts`);
  return {
    id: newId(now, 'si_'),
    matchers,
    startsAt,
    endsAt,
    createdBy: req.createdBy,
    comment: req.comment.trim(),
    createdAt: now,
    expiredAt: null,
  };
}

/** A time in a body: ms since the epoch (number or digits) or an ISO date-time, from 1970 to 9999. */
const when = z
  .union([z.number(), z.string()])
  .transform((v, ctx) => {
    const t = typeof v === 'number' ? v : /^\d+$/.test(v.trim()) ? Number(v) : Date.parse(v);
    if (inTimeRange(t)) return t;
    ctx.addIssue({
      code: 'custom',
      message: 'must be an ISO date-time or ms since the epoch (1970 to 9999)',
    });
    return z.NEVER;
  })
  .nullish();

/** A duration in a body: text with a unit (`30m`, `4h`, `7d`); a bare number is refused, as in config. */
const duration = z
  .union([z.number(), z.string()])
  .transform((v, ctx) => {
    const r = configDuration(v);
    if (r.ok && r.value > 0 && r.value <= MAX_SILENCE_MS) return r.value;
    ctx.addIssue({
      code: 'custom',
      message: r.ok
        ? `must be a duration such as "30m" or "4h", more than 0 and at most ${formatDuration(MAX_SILENCE_MS)}`
        : r.problem,
    });
    return z.NEVER;
  })
  .optional();

const silenceBody = z.object({
  rule: z.string().max(200, { error: 'must be at most 200 characters' }).optional(),
  labels: z
    .record(z.string().max(100), z.string().max(500), { error: 'must be an object of string values' })
    .refine((l) => Object.keys(l).length <= 20, { error: 'at most 20 labels' })
    .optional(),
  type: z.string().optional(),
  all: z.boolean().optional(),
  starts_at: when,
  startsAt: when,
  ends_at: when,
  endsAt: when,
  duration,
  comment: z
    .string()
    .max(MAX_SILENCE_COMMENT, { error: `must be at most ${MAX_SILENCE_COMMENT} characters` })
    .optional(),
});

/**
 * A silence request from a JSON body (snake_case or camelCase times); a 400 names the field
 * (`"duration": must be ... at most 90d`). The rest is checked by {@link buildSilence}.
 */
export function silenceFromBody(body: unknown, createdBy: string): SilenceRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('expected a JSON object');
  const r = silenceBody.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw bad(`"${issue.path.join('.')}": ${issue.message}`);
  }
  const b = r.data;
  return {
    rule: b.rule,
    labels: b.labels,
    type: b.type,
    all: b.all === true,
    startsAt: b.starts_at ?? b.startsAt ?? undefined,
    endsAt: b.ends_at ?? b.endsAt ?? undefined,
    durationMs: b.duration,
    comment: b.comment ?? '',
    createdBy,
  };
}

/** Creates a silence and audits it. */
export async function createSilence(repos: Repos, req: SilenceRequest, now: number): Promise<Silence> {
  const s = buildSilence(req, now);
  await repos.silences.create(s);
  await repos.audit.append({
    at: now,
    actor: s.createdBy,
    action: 'silence.create',
    target: s.id,
    detail: { matchers: s.matchers, startsAt: s.startsAt, endsAt: s.endsAt, comment: s.comment },
  });
  return s;
}

/** Ends a silence now and audits it: 404 unknown id, 409 already ended. */
export async function expireSilence(repos: Repos, id: string, actor: string, now: number): Promise<Silence> {
  const s = await repos.silences.get(id);
  if (!s) throw new ProdmonError('PRODMON_E_NOT_FOUND', `no silence with id "${id}"`);
  if (s.expiredAt !== null || s.endsAt <= now) {
    throw new ProdmonError('PRODMON_E_CONFLICT', `silence ${id} has already ended`);
  }
  if (!(await repos.silences.expire(id, now)))
    throw new ProdmonError('PRODMON_E_CONFLICT', `silence ${id} has already ended`);
  await repos.audit.append({
    at: now,
    actor,
    action: 'silence.expire',
    target: id,
    detail: { matchers: s.matchers },
  });
  return { ...s, expiredAt: now };
}

/** Whether a silence is in force at `now`. */
export function silenceActive(s: Silence, now: number): boolean {
  return s.expiredAt === null && s.startsAt <= now && now < s.endsAt;
}

/** Where a silence is in its life at `now`. */
export function silenceState(s: Silence, now: number): 'active' | 'pending' | 'expired' {
  if (silenceActive(s, now)) return 'active';
  return s.expiredAt === null && s.startsAt > now ? 'pending' : 'expired';
}

/** A silence as the API and `--json` show it (times in ms, plus its state). */
export function silenceView(s: Silence, now: number): Silence & { state: 'active' | 'pending' | 'expired' } {
  return { ...s, state: silenceState(s, now) };
}
