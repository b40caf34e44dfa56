/** The health-check plugin contract: one folder per kind under `src/checks/`, one line in the registry. */
import type { z } from 'zod';
import type { ResolvedConfig } from '../config/load.js';
import type { Clock } from '../core/clock.js';
import type { HealthCheckResult } from '../core/types.js';

/** Common keys of every entry in `health.checks`. */
export interface CheckSpecBase {
  name: string;
  kind: string;
  /** Per-check timeout in ms. */
  timeout: number;
  /** A failure makes the overall status unhealthy (true) or only degraded (false). */
  critical: boolean;
}

/** A check: a down target is data (status unhealthy); throw only when prodmon itself fails. */
export interface HealthCheck {
  readonly name: string;
  readonly kind: string;
  readonly critical: boolean;
  readonly timeout: number;
  run(signal: AbortSignal): Promise<HealthCheckResult>;
  /** Releases pools and connections. */
  close?(): Promise<void>;
}

/** What a check may use besides its own options. */
export interface CheckContext {
  clock: Clock;
  config: ResolvedConfig;
}

/** A check kind: its options (beside the common keys) and how to build one. */
export interface CheckDefinition<O = Record<string, unknown>> {
  kind: string;
  /** zod raw shape of the kind's own options. */
  shape: z.ZodRawShape;
  create(spec: CheckSpecBase & O, ctx: CheckContext): HealthCheck;
}
