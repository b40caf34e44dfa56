/** Small helpers shared by the check kinds: thresholds, latency, abortable waits, safe target names. */
import { performance } from 'node:perf_hooks';
import { scrub } from '../config/mask.js';
import { errorMessage } from '../core/errors.js';
import type { HealthCheckResult, HealthStatus } from '../domain/health.js';

/** Monotonic milliseconds, for measuring latency (never for logic a test controls). */
export const monotonic = (): number => performance.now();

/** Latency rounded to 0.1 ms. */
export const round1 = (ms: number): number => Math.round(ms * 10) / 10;

/** healthy below `warning`, degraded from `warning`, unhealthy from `critical`. */
export function levelOf(value: number, t: { warning: number; critical: number }): HealthStatus {
  if (value >= t.critical) return 'unhealthy';
  if (value >= t.warning) return 'degraded';
  return 'healthy';
}

/** Merges per-check thresholds over the defaults. */
export function thresholdsOf(
  own: { warning?: number; critical?: number } | undefined,
  defaults: { warning: number; critical: number },
): { warning: number; critical: number } {
  return { warning: own?.warning ?? defaults.warning, critical: own?.critical ?? defaults.critical };
}

/** The outcome of a working target whose latency may be too high. */
export function latencyOutcome(
  latencyMs: number,
  thresholdMs: number,
  details: Record<string, unknown>,
): { status: HealthStatus; details: Record<string, unknown>; error: string | null } {
  const slow = latencyMs > thresholdMs;
  return {
    status: slow ? 'degraded' : 'healthy',
    details: { ...details, latencyMs: round1(latencyMs), latencyThresholdMs: thresholdMs },
    error: slow ? `slow: ${round1(latencyMs)} ms (threshold ${thresholdMs} ms)` : null,
  };
}

/**
 * Waits for `work`, or rejects with the signal's reason as soon as it aborts, calling `cancel` so the
 * work itself stops (a socket destroyed, a connection ended).
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal, cancel?: () => void): Promise<T> {
  if (signal.aborted) {
    cancel?.();
    work.catch(() => {});
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      cancel?.();
      work.catch(() => {});
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** The abort reason as an Error. */
export function abortReason(signal: AbortSignal): Error {
  const r = signal.reason as unknown;
  return r instanceof Error ? r : new Error(r === undefined ? 'aborted' : errorMessage(r));
}

/** `host:port/path` of a URL, without credentials or query string (safe to show). */
export function safeTarget(url: string): string {
  try {
    const u = new URL(url);
    const path = u.pathname && u.pathname !== '/' ? u.pathname : '';
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${path}`;
  } catch {
    return 'the configured address';
  }
}

/** A driver's error as one clear line ("connect ECONNREFUSED 127.0.0.1:6380"), never with a URL's credentials. */
export function targetError(err: unknown): string {
  const e = err as { message?: string; code?: string; errors?: unknown[] };
  let msg = errorMessage(err);
  // AggregateError (happy eyeballs, several addresses): say what the first one said.
  if (!msg && Array.isArray(e.errors) && e.errors.length > 0) msg = errorMessage(e.errors[0]);
  if (!msg && e.code) msg = e.code;
  return msg.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1');
}

/** A result with every secret scrubbed from its error and (deeply) its details. */
export function scrubResult(r: HealthCheckResult, secrets: readonly string[]): HealthCheckResult {
  if (secrets.length === 0) return r;
  return {
    ...r,
    error: r.error === null ? null : scrub(r.error, secrets),
    details: deepScrub(r.details, secrets) as Record<string, unknown>,
  };
}

function deepScrub(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return scrub(value, secrets);
  if (Array.isArray(value)) return value.map((v) => deepScrub(v, secrets));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepScrub(v, secrets)]));
  }
  return value;
}
