/** The overall status and since when it holds, from check results (pure). */
import { type HealthCheckResult, type HealthStatus, overallStatus } from '../core/types.js';

/**
 * When the overall status last became `current`: replays stored results (any order) and the latest
 * ones, oldest first, keeping each check's newest result, and returns the time of the last change to
 * `current` (the oldest result's time when it never changed; null without results).
 */
export function statusSince(
  history: readonly Pick<HealthCheckResult, 'name' | 'status' | 'critical' | 'checkedAt'>[],
  current: HealthStatus,
): number | null {
  if (history.length === 0) return null;
  const sorted = [...history].sort((a, b) => a.checkedAt - b.checkedAt);
  const latest = new Map<string, Pick<HealthCheckResult, 'status' | 'critical'>>();
  let since: number | null = null;
  let prev: HealthStatus | null = null;
  let i = 0;
  while (i < sorted.length) {
    const at = sorted[i]!.checkedAt;
    // Results of one run share a time: apply them together before judging.
    while (i < sorted.length && sorted[i]!.checkedAt === at) {
      const r = sorted[i]!;
      latest.set(r.name, r);
      i++;
    }
    const s = overallStatus(latest.values() as Iterable<HealthCheckResult>);
    if (s !== prev) {
      if (s === current) since = at;
      prev = s;
    }
  }
  return prev === current ? since : null;
}
