/**
 * prodmon's own problems that are not checks of their own (a notification channel failing or disabled,
 * a scheduled job that failed), reported through the `self` check: the self check turns degraded or
 * unhealthy, and the built-in health-check rule raises a `system` alert naming the problem.
 */
import type { HealthStatus } from '../../domain/health.js';
import type { SelfProbeResult } from '../types.js';

/** One open problem. */
interface Problem {
  status: HealthStatus;
  reason: string;
  since: number;
}

/** A set of named problems that a self probe reports. */
export class OwnProblems {
  readonly #open = new Map<string, Problem>();
  readonly #onChange: () => void;

  /** `onChange` runs when the set changes (e.g. to refresh the health checks at once). */
  constructor(onChange: () => void = () => {}) {
    this.#onChange = onChange;
  }

  /** Opens (or updates) a problem. */
  set(key: string, reason: string, now: number, status: HealthStatus = 'unhealthy'): void {
    const prev = this.#open.get(key);
    this.#open.set(key, { status, reason, since: prev?.since ?? now });
    if (!prev || prev.reason !== reason || prev.status !== status) this.#onChange();
  }

  /** Closes a problem, if open. */
  clear(key: string): void {
    if (this.#open.delete(key)) this.#onChange();
  }

  /** The probe result: the worst open problem, with every reason. */
  probe(): SelfProbeResult {
    if (this.#open.size === 0) return { status: 'healthy', detail: null };
    const status: HealthStatus = [...this.#open.values()].some((p) => p.status === 'unhealthy')
      ? 'unhealthy'
      : 'degraded';
    return {
      status,
      detail: [...this.#open.entries()].map(([k, p]) => `${k}: ${p.reason}`).join('; '),
    };
  }
}
