/**
 * `custom`: a check given as a function by the embedded API (`monitor.health.register(name, fn)`). The
 * function gets an AbortSignal and returns a boolean or `{ status?, details?, error? }`; a throw means
 * unhealthy with the error's message.
 */
import { configDuration } from '../../core/duration.js';
import { ConfigError, errorMessage } from '../../core/errors.js';
import { CHECK_TIMEOUT } from '../../core/limits.js';
import { HEALTH_STATUSES, type HealthStatus } from '../../domain/health.js';
import type { CheckOutcome, HealthCheck } from '../types.js';

/** What a custom check function may return. */
export type CustomCheckResult =
  | boolean
  | undefined
  | { status?: HealthStatus; details?: Record<string, unknown>; error?: string | null };

/** What a function that returns nothing gives (counts as healthy). */
// biome-ignore lint/suspicious/noConfusingVoidType: `async () => {}` returns Promise<void>
type Nothing = void;

/** A custom check function. */
export type CustomCheckFn = (
  signal: AbortSignal,
) => CustomCheckResult | Nothing | Promise<CustomCheckResult | Nothing>;

/** Options of a registered check. */
export interface CustomCheckOptions {
  /** Timeout: a duration with a unit (`2s`, `500ms`), 10ms to 5m like a configured check's (default 5s). */
  timeout?: string;
  /** A failure makes the overall status unhealthy (default true) or only degraded. */
  critical?: boolean;
}

/** Turns what a custom function returned into an outcome. */
export function customOutcome(r: CustomCheckResult | Nothing): CheckOutcome {
  if (r === true || r === undefined) return { status: 'healthy' };
  if (r === false) return { status: 'unhealthy', error: 'the check returned false' };
  if (typeof r !== 'object' || r === null)
    return { status: 'unhealthy', error: 'the check returned no result' };
  const status: HealthStatus | undefined = HEALTH_STATUSES.includes(r.status as HealthStatus)
    ? r.status
    : undefined;
  if (r.status !== undefined && !status) {
    return {
      status: 'unhealthy',
      details: r.details,
      error: `the check returned an unknown status ${JSON.stringify(r.status)}`,
    };
  }
  // No status: an error means unhealthy, else healthy.
  return {
    status: status ?? (r.error ? 'unhealthy' : 'healthy'),
    details: r.details,
    error: r.error ?? null,
  };
}

/** A check from a function. */
export function customCheck(name: string, fn: CustomCheckFn, opts: CustomCheckOptions = {}): HealthCheck {
  let timeout = 5000;
  if (opts.timeout !== undefined) {
    // The config's rule for durations: `timeout: 2000` says neither seconds nor milliseconds.
    const t = configDuration(opts.timeout, CHECK_TIMEOUT);
    if (!t.ok) throw new ConfigError([`health.register("${name}"): timeout: ${t.problem}`]);
    timeout = t.value;
  }
  return {
    name,
    kind: 'custom',
    critical: opts.critical ?? true,
    timeout,
    async run(signal) {
      try {
        return customOutcome(await fn(signal));
      } catch (err) {
        if (signal.aborted) throw err;
        return { status: 'unhealthy', error: errorMessage(err) };
      }
    },
  };
}
