/** The health job: runs every check and stores the results for history (every 15 minutes by default). */
import type { HealthCheckResult } from '../../domain/health.js';
import type { Job } from '../types.js';

/** What the job needs from the health service. */
export interface HealthRunner {
  /** Runs every configured check now. */
  runAll(signal?: AbortSignal): Promise<readonly HealthCheckResult[]>;
}

/** Builds the health job; with `persist` false the service stores results itself. */
export function healthJob(health: HealthRunner, opts: { persist?: boolean } = {}): Job {
  return {
    name: 'health',
    description: 'run every health check and keep the results for history',
    async run(ctx) {
      const results = await health.runAll(ctx.signal);
      if (opts.persist !== false && results.length > 0) {
        await ctx.store.transaction(async (tx) => {
          await ctx.fence(tx);
          await tx.checks.insert(results);
        });
      }
      const count = (s: HealthCheckResult['status']) => results.filter((r) => r.status === s).length;
      return {
        counts: {
          checks: results.length,
          healthy: count('healthy'),
          degraded: count('degraded'),
          unhealthy: count('unhealthy'),
        },
        detail: { failing: results.filter((r) => r.status !== 'healthy').map((r) => r.name) },
      };
    },
  };
}
