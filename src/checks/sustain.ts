/** "Above the threshold for at least `for`": a level only counts once it has held that long (flap guard). */
import type { HealthStatus } from '../domain/health.js';

const RANK: Record<HealthStatus, number> = { healthy: 0, degraded: 1, unhealthy: 2 };

/** Tracks since when each level has held; pure apart from its memory of the previous runs. */
export class Sustain {
  #since: { degraded: number | null; unhealthy: number | null } = { degraded: null, unhealthy: null };

  constructor(readonly forMs: number) {}

  /** The level to report at `now`, given the raw level measured now, and how long the raw level has held. */
  update(raw: HealthStatus, now: number): { status: HealthStatus; heldMs: number } {
    for (const level of ['degraded', 'unhealthy'] as const) {
      if (RANK[raw] >= RANK[level]) this.#since[level] ??= now;
      else this.#since[level] = null;
    }
    const held = (level: 'degraded' | 'unhealthy') => {
      const s = this.#since[level];
      return s === null ? -1 : now - s;
    };
    if (held('unhealthy') >= this.forMs) return { status: 'unhealthy', heldMs: held('unhealthy') };
    if (held('degraded') >= this.forMs) return { status: 'degraded', heldMs: held('degraded') };
    return { status: 'healthy', heldMs: Math.max(0, held('degraded')) };
  }
}
