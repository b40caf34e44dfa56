/**
 * The gate's requests as typed or sent: `baseline save` and `baseline compare`, from CLI flags or a JSON
 * body (snake_case keys: `max_p95`, `before_deploy`...), validated by one zod schema each. A bad value
 * is a usage error (exit 2, HTTP 400) naming the flag or the field, through `label`.
 */
import { z } from 'zod';
import { inTimeRange } from '../core/bounds.js';
import { configDuration, parseDuration, writtenDuration } from '../core/duration.js';
import { ProdmonError } from '../core/errors.js';
import { DEFAULT_SETTINGS, type GateSettings } from './compare.js';
import { MAX_WINDOW_MS, MIN_WINDOW_MS, routeMatcher } from './window.js';

/** Names a field in messages: `--max-p95` on the command line, `"max_p95"` over HTTP. */
export type Label = (key: string) => string;

export const cliLabel: Label = (key) => (key === 'name' ? '<name>' : `--${key.replace(/_/g, '-')}`);
export const jsonLabel: Label = (key) => `"${key}"`;

/** Baseline names: letters, digits, `.`, `_`, `-`, at most this long. */
export const MAX_NAME_LENGTH = 64;
const NAME = /^[A-Za-z0-9._-]+$/;
/** Longest instance name accepted in a filter. */
const MAX_INSTANCE_LENGTH = 200;
/** Longest version accepted for `--before-deploy`. */
const MAX_VERSION_LENGTH = 200;
/** Bounds of the settings (docs/deployment-gate.md). */
export const SETTING_BOUNDS = {
  maxIncrease: 10, // +1000 %
  minRequests: { min: 10, max: 10_000_000 },
  minDelta: '60s',
  alpha: { min: 1e-6, max: 0.5 },
} as const;

function usage(message: string): ProdmonError {
  return new ProdmonError('PRODMON_E_BAD_REQUEST', message, { exitCode: 2 });
}

/** Parses with `schema`: the first problem is a usage error (its message names the field). */
function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (issue?.code === 'unrecognized_keys')
    throw usage(`unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}`);
  throw usage(issue?.message ?? 'bad request');
}

/** An optional text value; given, it must not be blank (`--route ""` is a mistake, not "every route"). */
const optText = (l: string) =>
  z
    .string({ error: `${l} must be a string` })
    .trim()
    .min(1, { error: `${l} must not be empty` })
    .optional();

/** A window length: a duration with a unit, whole minutes from 3m to 24h. */
function windowLength(l: string) {
  return optText(l).transform((v, ctx) => {
    if (v === undefined) return undefined;
    const r = configDuration(v, { min: writtenDuration(MIN_WINDOW_MS), max: writtenDuration(MAX_WINDOW_MS) });
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: `${l} ${r.problem}` });
      return z.NEVER;
    }
    if (r.value % 60_000 !== 0) {
      ctx.addIssue({
        code: 'custom',
        message: `${l} must be whole minutes (the gate reads minute rollups), got "${v}"`,
      });
      return z.NEVER;
    }
    return r.value;
  });
}

/** A time: ms since the epoch, an ISO date-time, or a duration back from `now` (`2h`). */
function time(l: string, now: number) {
  return z
    .union([z.number(), z.string()], { error: `${l} must be a time` })
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      let t: number;
      if (typeof v === 'number') t = v;
      else if (/^\d{10,}$/.test(v.trim())) t = Number(v.trim());
      else if (/^\s*\d+(\.\d+)?\s*(ms|s|m|h|d|w)\s*$/i.test(v)) t = now - parseDuration(v)!;
      else t = Date.parse(v);
      if (!inTimeRange(t)) {
        ctx.addIssue({
          code: 'custom',
          message: `${l}: expected an ISO date-time (2026-03-01T10:00:00Z), ms since the epoch or a duration back such as "2h", got ${JSON.stringify(v)}`,
        });
        return z.NEVER;
      }
      return t;
    });
}

function boundedText(l: string, max: number) {
  return optText(l).refine((v) => v === undefined || v.length <= max, {
    message: `${l} is longer than ${max} characters`,
  });
}

function routeGlob(l: string) {
  return optText(l).transform((v, ctx) => {
    if (v === undefined) return undefined;
    try {
      routeMatcher(v, l);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
    return v;
  });
}

/** A baseline name (required). */
function nameField(l: string) {
  return z
    .string({ error: `${l} is required: a baseline name of letters, digits, ".", "_" and "-"` })
    .refine((v) => v.length >= 1 && v.length <= MAX_NAME_LENGTH && NAME.test(v), {
      message: `${l} must be 1 to ${MAX_NAME_LENGTH} characters of letters, digits, ".", "_" and "-"`,
    });
}

/** `+10%` (or `10%`, `10`) as 0.1; `off` as null. */
function percent(l: string) {
  return z
    .union([z.number(), z.string()], { error: `${l} must be a percentage such as "+10%" or "off"` })
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return undefined;
      if (typeof v === 'string' && /^\s*(off|none)\s*$/i.test(v)) return null;
      const m = typeof v === 'number' ? [String(v), String(v)] : /^\s*\+?(\d+(?:\.\d+)?)\s*%\s*$/.exec(v);
      const n = m ? Number(m[1]) / 100 : Number.NaN;
      if (!(n > 0 && n <= SETTING_BOUNDS.maxIncrease)) {
        ctx.addIssue({
          code: 'custom',
          message: `${l} must be an increase from "+0.1%" to "+1000%" (or "off"), got ${JSON.stringify(v)}`,
        });
        return z.NEVER;
      }
      return n;
    });
}

/** `+0.5pp` (percentage points) as 0.005; `off` as null. */
function points(l: string) {
  return z
    .union([z.number(), z.string()], { error: `${l} must be percentage points such as "+0.5pp" or "off"` })
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return undefined;
      if (typeof v === 'string' && /^\s*(off|none)\s*$/i.test(v)) return null;
      const m = typeof v === 'number' ? [String(v), String(v)] : /^\s*\+?(\d+(?:\.\d+)?)\s*pp\s*$/i.exec(v);
      const n = m ? Number(m[1]) / 100 : Number.NaN;
      if (!(n >= 0 && n <= 1)) {
        ctx.addIssue({
          code: 'custom',
          message: `${l} must be percentage points from "+0pp" to "+100pp" (or "off"), got ${JSON.stringify(v)}`,
        });
        return z.NEVER;
      }
      return n;
    });
}

function numberIn(l: string, min: number, max: number, integer: boolean) {
  const error = `${l} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`;
  return z
    .union([z.number(), z.string()], { error })
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      const n = typeof v === 'number' ? v : /^\s*\d+(\.\d+)?(e-?\d+)?\s*$/i.test(v) ? Number(v) : Number.NaN;
      if (!(n >= min && n <= max) || (integer && !Number.isInteger(n))) {
        ctx.addIssue({ code: 'custom', message: `${error}, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return n;
    });
}

function minDelta(l: string) {
  return optText(l).transform((v, ctx) => {
    if (v === undefined) return undefined;
    const r = configDuration(v, { max: SETTING_BOUNDS.minDelta });
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: `${l} ${r.problem}` });
      return z.NEVER;
    }
    return r.value;
  });
}

const flag = (l: string) => z.boolean({ error: `${l} must be true or false` }).optional();

/** A validated `baseline save`. */
export interface SaveRequest {
  name: string;
  /** Window length back from now (default 30m) — or `from`/`to`. */
  sinceMs?: number;
  from?: number;
  to?: number;
  instance?: string;
  route?: string;
  force: boolean;
}

/** The default window of `baseline save`. */
export const DEFAULT_BASELINE_WINDOW_MS = 30 * 60_000;
/** The default window of `baseline compare`. */
export const DEFAULT_COMPARE_WINDOW_MS = 10 * 60_000;

/** Validates a `baseline save` request (flags or a JSON body). */
export function parseSaveRequest(input: unknown, label: Label, now: number): SaveRequest {
  const schema = z
    .object(
      {
        name: nameField(label('name')),
        since: windowLength(label('since')),
        from: time(label('from'), now),
        to: time(label('to'), now),
        instance: boundedText(label('instance'), MAX_INSTANCE_LENGTH),
        route: routeGlob(label('route')),
        force: flag(label('force')),
      },
      { error: 'expected a JSON object: {"name": "...", "since": "30m"}' },
    )
    .strict();
  const r = parse(schema, input);
  if (r.since !== undefined && (r.from !== undefined || r.to !== undefined))
    throw usage(`${label('since')} or ${label('from')}/${label('to')}, not both`);
  if ((r.from === undefined) !== (r.to === undefined))
    throw usage(`${label('from')} and ${label('to')} go together`);
  return {
    name: r.name,
    ...(r.since !== undefined ? { sinceMs: r.since } : {}),
    ...(r.from !== undefined ? { from: r.from, to: r.to } : {}),
    ...(r.instance ? { instance: r.instance } : {}),
    ...(r.route ? { route: r.route } : {}),
    force: r.force === true,
  };
}

/** A validated `baseline compare`. */
export interface CompareRequest {
  /** A saved baseline's name — or `beforeDeploy`. */
  baseline?: string;
  beforeDeploy?: string;
  sinceMs: number;
  /** End of the current window (default: now, less the flush delay). */
  until?: number;
  instance?: string;
  route?: string;
  settings: GateSettings;
}

/** Validates a `baseline compare` request. */
export function parseCompareRequest(input: unknown, label: Label, now: number): CompareRequest {
  const schema = z
    .object(
      {
        baseline: nameField(label('baseline')).optional(),
        before_deploy: boundedText(label('before_deploy'), MAX_VERSION_LENGTH),
        since: windowLength(label('since')),
        until: time(label('until'), now),
        instance: boundedText(label('instance'), MAX_INSTANCE_LENGTH),
        route: routeGlob(label('route')),
        max_p95: percent(label('max_p95')),
        max_p99: percent(label('max_p99')),
        max_error_rate: points(label('max_error_rate')),
        min_requests: numberIn(
          label('min_requests'),
          SETTING_BOUNDS.minRequests.min,
          SETTING_BOUNDS.minRequests.max,
          true,
        ),
        min_delta: minDelta(label('min_delta')),
        alpha: numberIn(label('alpha'), SETTING_BOUNDS.alpha.min, SETTING_BOUNDS.alpha.max, false),
      },
      { error: 'expected a JSON object: {"baseline": "<name>"} or {"before_deploy": "<version>"}' },
    )
    .strict();
  const r = parse(schema, input);
  if ((r.baseline === undefined) === (r.before_deploy === undefined))
    throw usage(
      `give a baseline name (${label('baseline')}) or ${label('before_deploy')} <version>, ${r.baseline === undefined ? 'one of them' : 'not both'}`,
    );
  const settings: GateSettings = {
    maxP95: r.max_p95 === undefined ? DEFAULT_SETTINGS.maxP95 : r.max_p95,
    maxP99: r.max_p99 === undefined ? DEFAULT_SETTINGS.maxP99 : r.max_p99,
    maxErrorRate: r.max_error_rate === undefined ? DEFAULT_SETTINGS.maxErrorRate : r.max_error_rate,
    minRequests: r.min_requests ?? DEFAULT_SETTINGS.minRequests,
    minDeltaMs: r.min_delta ?? DEFAULT_SETTINGS.minDeltaMs,
    alpha: r.alpha ?? DEFAULT_SETTINGS.alpha,
  };
  if (settings.maxP95 === null && settings.maxP99 === null && settings.maxErrorRate === null)
    throw usage(
      `nothing to check: ${label('max_p95')}, ${label('max_p99')} and ${label('max_error_rate')} are all off`,
    );
  return {
    ...(r.baseline !== undefined ? { baseline: r.baseline } : { beforeDeploy: r.before_deploy! }),
    sinceMs: r.since ?? DEFAULT_COMPARE_WINDOW_MS,
    ...(r.until !== undefined ? { until: r.until } : {}),
    ...(r.instance ? { instance: r.instance } : {}),
    ...(r.route ? { route: r.route } : {}),
    settings,
  };
}

/** Validates a baseline name alone (`show`, `delete`). */
export function parseName(name: unknown, label: Label): string {
  return parse(nameField(label('name')), name);
}
