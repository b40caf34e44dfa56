/**
 * Silences: mute the alerts matching a rule, labels and/or a type for a while. Silenced alerts are
 * still evaluated and recorded; they are notified when the silence ends if they are still firing, and
 * a resolution is still told to those who were told of the firing. Creating and expiring one is
 * audited. Shared by the HTTP API and the CLI.
 */
import { ProdmonError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { ALERT_TYPES, type AlertType, type Labels } from '../core/types.js';
import type { Repos } from '../store/index.js';
import type { Silence, SilenceMatchers } from '../store/repos/silences.js';
import { labelsMatch, type MuteTarget } from './maintenance.js';

/** Whether a silence's matchers match an alert (every given matcher must; none matches all). */
export function silenceMatches(m: SilenceMatchers, t: MuteTarget): boolean {
  if (m.rule !== undefined && m.rule !== t.rule) return false;
  if (m.type !== undefined && m.type !== t.type) return false;
  return labelsMatch(m.labels, t.labels);
}

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
}

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
  const startsAt = req.startsAt ?? now;
  if (!Number.isFinite(startsAt)) throw bad('"starts_at" must be a date-time');
  let endsAt = req.endsAt;
  if (endsAt === undefined && req.durationMs !== undefined) endsAt = startsAt + req.durationMs;
  if (endsAt === undefined || !Number.isFinite(endsAt))
    throw bad('a silence needs an end ("ends_at") or a duration ("duration": "30m")');
  if (endsAt <= startsAt) throw bad('a silence must end after it starts');
  if (endsAt <= now) throw bad('a silence must end in the future');
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
