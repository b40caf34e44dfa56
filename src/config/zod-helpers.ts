/** Small zod builders shared by the config sections: strict objects with key suggestions, durations, sizes. */
import { z } from 'zod';
import { type Bounds, configDuration, configSize } from '../core/duration.js';

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** The known key closest to `key`, if it is close enough to be a typo. */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDist) {
      bestDist = d;
      best = k;
    }
  }
  return best !== undefined && bestDist <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** Message for keys an object does not know, suggesting the nearest known key for each. */
export function unknownKeysMessage(keys: readonly string[], known: readonly string[]): string {
  return keys
    .map((k) => {
      const near = nearestKey(k, known);
      return near
        ? `unknown key "${k}" (did you mean "${near}"?)`
        : `unknown key "${k}" (known keys: ${known.join(', ')})`;
    })
    .join('; ');
}

/** A strict object: unknown keys are errors that suggest the nearest known key. */
export function obj<T extends z.ZodRawShape>(shape: T) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? unknownKeysMessage(iss.keys, known) : undefined),
  });
}

/** What the config reference knows of a duration or size field: its kind and documented bounds. */
export interface AmountMeta extends Bounds {
  kind: 'duration' | 'size';
}

/** Every duration and size schema, with its bounds (read by the generated config reference). */
export const amounts = z.registry<AmountMeta>();

function amount(kind: AmountMeta['kind'], bounds: Bounds) {
  const check = kind === 'duration' ? configDuration : configSize;
  const example = kind === 'duration' ? '"500ms", "10s", "15m", "30d"' : '"512KB", "50MB"';
  const schema = z
    .union([z.string(), z.number()], { error: `expected a ${kind} such as ${example}` })
    .transform((v, ctx) => {
      const r = check(v, bounds);
      if (r.ok) return r.value;
      ctx.addIssue({ code: 'custom', message: r.problem });
      return z.NEVER;
    });
  amounts.add(schema, { kind, ...bounds });
  return schema;
}

/**
 * A duration with a unit (`500ms`, `10s`, `15m`, `4h`, `30d`), parsed to ms, within `bounds`; no default.
 * A bare number is an error that suggests the unit (only `0` needs none).
 */
export function anyDuration(bounds: Bounds = {}) {
  return amount('duration', bounds);
}

/** A duration with a default. */
export function duration(defaultValue: string, bounds: Bounds = {}) {
  return anyDuration(bounds).prefault(defaultValue);
}

/** A size with a unit (`50MB`, `1GB`, `512KB`, `100B`), parsed to bytes, within `bounds`. */
export function size(defaultValue: string, bounds: Bounds = {}) {
  return amount('size', bounds).prefault(defaultValue);
}

/** A whole number within documented bounds (shown in the config reference). */
export function count(defaultValue: number, min: number, max: number) {
  return z.number().int().min(min).max(max).default(defaultValue);
}

/** A cron schedule (5 or 6 fields), or `false`/`off` to disable a job. */
export function schedule(defaultValue: string) {
  return z
    .union([z.string(), z.literal(false)], {
      error: 'expected a cron expression such as "0 3 * * *", or false',
    })
    .transform((v, ctx): string | false => {
      if (v === false || v === 'off' || v === 'false') return false;
      const fields = v.trim().split(/\s+/);
      if (fields.length < 5 || fields.length > 6) {
        ctx.addIssue({
          code: 'custom',
          message: `expected a cron expression with 5 or 6 fields, got "${v}"`,
        });
        return z.NEVER;
      }
      return v.trim();
    })
    .prefault(defaultValue);
}

/** A non-empty string. */
export const nonEmpty = () => z.string().min(1, { error: 'must not be empty' });
