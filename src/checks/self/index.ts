/**
 * `self`: prodmon's own state, from the self probes its parts register (`health.addSelfProbe(name, fn)`):
 * the store, the logger, and later the evaluation loop, the outbox, the jobs. The worst probe wins.
 */
import { errorMessage } from '../../core/errors.js';
import { HEALTH_STATUSES, type HealthStatus, worstStatus } from '../../domain/health.js';
import type { CheckDefinition, SelfProbe, SelfProbeResult } from '../types.js';

/** Runs one probe; a throw is `unhealthy` with its message. */
export async function runProbe(probe: SelfProbe, signal: AbortSignal): Promise<SelfProbeResult> {
  try {
    const r = await probe(signal);
    if (!r || !HEALTH_STATUSES.includes(r.status))
      return { status: 'unhealthy', detail: 'the probe returned no valid status' };
    return { status: r.status, detail: r.detail ?? null };
  } catch (err) {
    return { status: 'unhealthy', detail: errorMessage(err) };
  }
}

function describe(detail: SelfProbeResult['detail']): string {
  if (!detail) return '';
  if (typeof detail === 'string') return detail;
  const error = (detail as { error?: unknown }).error;
  return typeof error === 'string' ? error : JSON.stringify(detail);
}

/** The `self` kind (no options). */
export const selfCheck: CheckDefinition = {
  kind: 'self',
  shape: {},
  create(spec, ctx) {
    return {
      name: spec.name,
      kind: spec.kind,
      critical: spec.critical,
      timeout: spec.timeout,
      async run(signal) {
        const probes = [...(ctx.self?.probes() ?? new Map<string, SelfProbe>())];
        const results = await Promise.all(
          probes.map(async ([name, p]) => [name, await runProbe(p, signal)] as const),
        );
        const statuses: HealthStatus[] = results.map(([, r]) => r.status);
        const problems = results
          .filter(([, r]) => r.status !== 'healthy')
          .map(([name, r]) => `${name}: ${r.status}${describe(r.detail) ? ` (${describe(r.detail)})` : ''}`);
        return {
          status: worstStatus(statuses),
          details: { probes: Object.fromEntries(results) },
          error: problems.length ? problems.join('; ') : null,
        };
      },
    };
  },
};
