/** Request timing lines for `performance.log`: opt-in per request, or sampled at `logs.performance_sample_rate`. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProductionLogger } from './logger.js';

/** One request's timing, as the metrics code knows it. */
export interface RequestTiming {
  method: string;
  /** The route pattern (`/orders/:id`), not the raw URL. */
  route: string;
  status: number;
  durationMs: number;
  reqId?: string;
  /**
   * The request and response themselves, when at hand: with `logs.format: ecs` they become the ECS
   * `http.*`, `url.*`, `client.*` and `user_agent.*` fields (headers redacted like every field); in
   * pino's JSON, `req` and `res` as pino serializes them.
   */
  req?: IncomingMessage;
  res?: ServerResponse;
  /** Anything else worth keeping (db time, bytes...): redacted like every field. */
  [key: string]: unknown;
}

/** How to decide whether this request's line is written. */
export interface TimingOptions {
  /** `logs.performance_sample_rate`: fraction of requests logged (0 = only forced ones). */
  sampleRate: number;
  /** Log this one whatever the rate (a request marked for tracing, a slow one). */
  force?: boolean;
  /** Source of randomness in [0, 1) (default Math.random); tests pass their own. */
  random?: () => number;
}

/** Whether a request is sampled at `rate`. */
export function sampled(rate: number, random: () => number = Math.random): boolean {
  return rate > 0 && (rate >= 1 || random() < rate);
}

/** Writes the timing line to the performance log when forced or sampled; returns whether it did. */
export function logRequestTiming(
  logger: Pick<ProductionLogger, 'performance'>,
  timing: RequestTiming,
  opts: TimingOptions,
): boolean {
  if (!opts.force && !sampled(opts.sampleRate, opts.random)) return false;
  logger.performance.info(
    { kind: 'request', ...timing },
    `${timing.method} ${timing.route} ${timing.status}`,
  );
  return true;
}
