/**
 * The health-check plugin contract: one folder per kind under `src/checks/` (its option schema in
 * `options.ts`, zod only; its implementation in `index.ts`), one line in `kinds.ts` (what the config
 * validates) and one in `registry.ts`.
 */
import type { z } from 'zod';
import type { Clock } from '../core/clock.js';
import type { HealthStatus } from '../domain/health.js';

/** Common keys of every entry in `health.checks`. */
export interface CheckSpecBase {
  name: string;
  kind: string;
  /** Per-check timeout in ms. */
  timeout: number;
  /** A failure makes the overall status unhealthy (true) or only degraded (false). */
  critical: boolean;
}

/** What one run of a check found; the runner adds name, kind, timing and `checkedAt`. */
export interface CheckOutcome {
  status: HealthStatus;
  /** Non-secret facts: versions, latency, pool stats, used %... */
  details?: Record<string, unknown>;
  /** Why the check is not healthy. */
  error?: string | null;
}

/** A check: a down target is data (an unhealthy outcome); throw only when prodmon itself fails. */
export interface HealthCheck {
  readonly name: string;
  readonly kind: string;
  readonly critical: boolean;
  /** Per-run timeout in ms; the runner aborts `signal` when it passes. */
  readonly timeout: number;
  /** Runs once; must stop its work (close sockets) when `signal` aborts. */
  run(signal: AbortSignal): Promise<CheckOutcome>;
  /** Releases pools and connections. */
  close?(): Promise<void>;
}

/** What a self probe reports: one facet of prodmon's own state. */
export interface SelfProbeResult {
  status: HealthStatus;
  /** A short sentence, or facts. */
  detail?: string | Record<string, unknown> | null;
}

/** A probe of prodmon's own state (store, evaluation loop, outbox, logger...), registered by its owner. */
export type SelfProbe = (signal: AbortSignal) => SelfProbeResult | Promise<SelfProbeResult>;

/** Where the `self` check finds its probes (the health service's registry). */
export interface SelfProbeSource {
  probes(): ReadonlyMap<string, SelfProbe>;
}

/** Warning and critical levels of a figure. */
export interface Levels {
  warning: number;
  critical: number;
}

/**
 * The defaults a check kind's options fall back on that come from elsewhere in the config
 * (`alerting.thresholds`, `data_dir`): built once by src/checks/build.ts, given to each kind's `resolve`.
 */
export interface CheckDefaults {
  /** The data directory (what the `disk` check watches by default). */
  dataDir: string;
  /** Used % thresholds. */
  cpu: Levels;
  memory: Levels;
  disk: Levels;
  /** Latency above which a working target is degraded, ms: HTTP endpoints, databases and caches. */
  httpLatency: number;
  databaseLatency: number;
}

/** What a check may use besides its own options. */
export interface CheckContext {
  clock: Clock;
  /** The self probes (for the `self` kind). */
  self?: SelfProbeSource;
}

/**
 * A check kind: its options (beside the common keys) and how to build one (no I/O: connect in `run`).
 * `O` is the options as validated, `R` as the check runs with them, defaults from elsewhere filled in.
 */
export interface CheckDefinition<O = Record<string, unknown>, R = O> {
  kind: string;
  /** zod raw shape of the kind's own options. */
  shape: z.ZodRawShape;
  /** The options with the config-wide defaults filled in (absent: the options are complete as validated). */
  resolve?(spec: CheckSpecBase & O, defaults: CheckDefaults): CheckSpecBase & R;
  create(spec: CheckSpecBase & R, ctx: CheckContext): HealthCheck;
}
