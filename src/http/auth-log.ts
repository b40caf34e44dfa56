/**
 * Refused requests as security events: an unknown bearer token (`api_auth_failure`) or a known one
 * lacking the role (`api_forbidden`) on any route, and failed dashboard sign-ins (`failed_login`). Every
 * event is counted by the `security` alert rules (`failed_logins` counts `failed_login` and
 * `api_auth_failure`); the lines written to the security log are bounded, so a flood of wrong tokens
 * cannot fill the disk: at most `perSource` lines a minute per kind and client address and `total` lines
 * a minute in all. The next line written for a kind and address tells how many were left out since its
 * previous one (`suppressed`).
 */
import type { FastifyRequest } from 'fastify';
import type { SecurityEvent } from '../alerting/sources.js';
import type { Clock } from '../core/clock.js';
import type { AuthEvents, AuthFailure } from './auth.js';

/** Where an event goes: counted always, written to the security log when `log`. */
export type SecurityRecorder = (event: SecurityEvent, log: boolean) => void;

/** Limits of the security log lines of refused requests. */
export interface SecurityLogLimits {
  /** Lines per minute per event kind and client address (default 20). */
  perSource?: number;
  /** Lines per minute in all (default 300). */
  total?: number;
  /** Addresses remembered between minutes, for their `suppressed` counts (default 10,000). */
  maxSources?: number;
}

const WINDOW_MS = 60_000;
const MAX_PATH = 200;
const MAX_USER = 100;

/** Counts events per minute and decides which are written. */
export class SecurityLogBudget {
  readonly #clock: Clock;
  readonly #perSource: number;
  readonly #total: number;
  readonly #maxSources: number;
  #window = Number.NaN;
  #written = 0;
  /** kind + address -> lines written this minute, events left out since the last line written. */
  readonly #sources = new Map<string, { written: number; suppressed: number }>();

  constructor(clock: Clock, limits: SecurityLogLimits = {}) {
    this.#clock = clock;
    this.#perSource = limits.perSource ?? 20;
    this.#total = limits.total ?? 300;
    this.#maxSources = limits.maxSources ?? 10_000;
  }

  /** Whether to write this event's line, and how many of its source's were left out before it. */
  take(e: SecurityEvent): { log: boolean; suppressed: number } {
    const window = Math.floor(this.#clock.now() / WINDOW_MS);
    if (window !== this.#window) {
      this.#window = window;
      this.#written = 0;
      for (const [k, s] of this.#sources) {
        if (s.suppressed === 0) this.#sources.delete(k);
        else s.written = 0;
      }
    }
    const key = `${e.kind}\u0000${e.ip ?? e.source ?? ''}`;
    let s = this.#sources.get(key);
    if (!s) {
      if (this.#sources.size >= this.#maxSources) this.#sources.delete(this.#sources.keys().next().value!);
      s = { written: 0, suppressed: 0 };
      this.#sources.set(key, s);
    }
    if (s.written >= this.#perSource || this.#written >= this.#total) {
      s.suppressed++;
      return { log: false, suppressed: 0 };
    }
    s.written++;
    this.#written++;
    const suppressed = s.suppressed;
    s.suppressed = 0;
    return { log: true, suppressed };
  }
}

/** The path of a request, without its query, cut to a length fit for a log line. */
function pathOf(req: FastifyRequest): string {
  const path = req.url.split('?')[0] ?? '';
  return path.length > MAX_PATH ? `${path.slice(0, MAX_PATH)}…` : path;
}

/** Reports refused requests and failed sign-ins through `record`, within the log budget. */
export function securityEvents(
  clock: Clock,
  record: SecurityRecorder,
  limits?: SecurityLogLimits,
): Required<Pick<AuthEvents, 'onFailure' | 'signInFailed'>> {
  const budget = new SecurityLogBudget(clock, limits);
  const emit = (e: SecurityEvent) => {
    const { log, suppressed } = budget.take(e);
    record(suppressed > 0 ? { ...e, detail: { ...e.detail, suppressed } } : e, log);
  };
  return {
    onFailure(req: FastifyRequest, reason: AuthFailure) {
      if (reason === 'missing') return; // no credential at all: a signed-out visit, not an attempt
      // An unknown token is a failed login; a known token lacking the role is only an authorization failure.
      const kind = reason === 'invalid' ? 'api_auth_failure' : 'api_forbidden';
      emit({ kind, ip: req.ip, detail: { reason, method: req.method, path: pathOf(req) } });
    },
    signInFailed(req: FastifyRequest, who: { user?: string; via: 'password' | 'token'; limited: boolean }) {
      const user = who.user ? who.user.slice(0, MAX_USER) : undefined;
      emit({
        kind: 'failed_login',
        ip: req.ip,
        user,
        detail: { via: who.via, path: pathOf(req), ...(who.limited ? { limited: true } : {}) },
      });
    },
  };
}
