/**
 * Running checks: each with its own timeout and an AbortSignal that cancels its work. A check that
 * throws or times out becomes an `unhealthy` result with a clear message; the runner never throws.
 */
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { HealthCheckResult, HealthStatus } from '../domain/health.js';
import { HEALTH_STATUSES } from '../domain/health.js';
import type { CheckOutcome, HealthCheck } from './types.js';
import { monotonic, round1 } from './util.js';

/** What the runner needs: time, and where prodmon's own failures are logged. */
export interface RunOptions {
  clock: Clock;
  /** Monotonic ms for response times (default performance.now). */
  now?: () => number;
  /** Cancels the run (shutdown). */
  signal?: AbortSignal;
  /** A check that threw: prodmon's own failure (a bug in a check), not the target's. */
  onCheckError?: (check: HealthCheck, err: unknown) => void;
}

/** Raised into the check's signal when its timeout passes. */
export class CheckTimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'CheckTimeoutError';
  }
}

type Settled =
  | { kind: 'done'; outcome: CheckOutcome }
  | { kind: 'threw'; err: unknown }
  | { kind: 'timeout' };

/** Runs one check once, bounded by its timeout; always resolves with a result. */
export async function runCheck(check: HealthCheck, opts: RunOptions): Promise<HealthCheckResult> {
  const now = opts.now ?? monotonic;
  const checkedAt = opts.clock.now();
  const started = now();
  const ctl = new AbortController();
  const onParent = () => ctl.abort(opts.signal?.reason ?? new Error('stopped'));
  if (opts.signal?.aborted) onParent();
  else opts.signal?.addEventListener('abort', onParent, { once: true });
  const timerCtl = new AbortController();

  const work: Promise<Settled> = (async () => check.run(ctl.signal))().then(
    (outcome) => ({ kind: 'done', outcome }),
    (err) => ({ kind: 'threw', err }),
  );
  const timeout: Promise<Settled> = opts.clock.sleep(check.timeout, timerCtl.signal).then(
    () => ({ kind: 'timeout' }),
    () => new Promise<Settled>(() => {}), // cancelled: the work settled first
  );
  const aborted: Promise<Settled> = new Promise((resolve) => {
    if (ctl.signal.aborted) resolve({ kind: 'threw', err: ctl.signal.reason });
    else
      ctl.signal.addEventListener('abort', () => resolve({ kind: 'threw', err: ctl.signal.reason }), {
        once: true,
      });
  });

  let settled: Settled;
  try {
    settled = await Promise.race([work, timeout, aborted]);
  } finally {
    timerCtl.abort();
    opts.signal?.removeEventListener('abort', onParent);
  }
  if (settled.kind === 'timeout') ctl.abort(new CheckTimeoutError(check.timeout)); // cancel the work
  const responseTimeMs = round1(now() - started);
  const base = { name: check.name, kind: check.kind, critical: check.critical, checkedAt, responseTimeMs };

  if (settled.kind === 'timeout') {
    return { ...base, status: 'unhealthy', details: {}, error: `timed out after ${check.timeout} ms` };
  }
  if (settled.kind === 'threw') {
    const stopping = ctl.signal.aborted;
    if (!stopping) opts.onCheckError?.(check, settled.err);
    const why = stopping
      ? `cancelled: ${errorMessage(settled.err)}`
      : `check failed: ${errorMessage(settled.err)}`;
    return { ...base, status: 'unhealthy', details: {}, error: why };
  }
  return { ...base, ...normalize(settled.outcome) };
}

/** A check's outcome made whole: a known status, an object of details, an error when not healthy. */
export function normalize(o: CheckOutcome): Pick<HealthCheckResult, 'status' | 'details' | 'error'> {
  const known = HEALTH_STATUSES.includes(o?.status as HealthStatus);
  const status: HealthStatus = known ? o.status : 'unhealthy';
  const details = o?.details && typeof o.details === 'object' ? jsonSafe(o.details) : {};
  if (status === 'healthy') return { status, details, error: null };
  return { status, details, error: o?.error || (known ? status : 'the check returned no valid status') };
}

/** A copy with only JSON values (bigints as strings, no functions or cycles). */
export function jsonSafe(value: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(
      JSON.stringify(value, (_k, v) =>
        typeof v === 'bigint' ? v.toString() : typeof v === 'function' ? undefined : v,
      ),
    ) as Record<string, unknown>;
  } catch {
    return { note: 'details could not be serialized' };
  }
}

/** Runs every check in parallel; `onResult` sees each as soon as it finishes. */
export function runChecks(
  checks: readonly HealthCheck[],
  opts: RunOptions & { onResult?: (r: HealthCheckResult) => void },
): Promise<HealthCheckResult[]> {
  return Promise.all(
    checks.map(async (c) => {
      const r = await runCheck(c, opts);
      opts.onResult?.(r);
      return r;
    }),
  );
}
